#pragma once

#include "sconectl/cas/connect.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/process.hpp"

#include <ostream>
#include <string>

namespace sconectl::cli {

// Everything a command needs from the outside world, built once in main() (real implementations)
// or in tests (fakes). There are no singletons.
struct Services {
  ProcessRunner& processes;
  std::ostream& out;  // results only
  std::ostream& err;  // diagnostics and logs
  manifest::VariableLookup variables = manifest::process_environment();
  // The Docker CLI to drive ($SCONECTL_DOCKER in main, "docker" by default).
  std::string docker_program = "docker";
  // Whether lookups (version, image inspect, image list) go to the Docker Engine API on its unix
  // socket instead of the CLI. main() sets it unless SCONECTL_DOCKER names a program to use.
  bool docker_engine_api = false;
  // How connections to a CAS are made (libcurl over mutual TLS; in tests, an in-memory CAS).
  cas::TransportFactory cas_transport = cas::curl_transport_factory();
};

// Parses the command line, runs the command, and returns the process exit code (see README).
[[nodiscard]] int run(int argc, const char* const* argv, Services& services);

}  // namespace sconectl::cli
