#include "sconectl/cli/app.hpp"

#include <iostream>
#include <utility>

int main(int argc, char** argv)
{
  sconectl::PosixProcessRunner processes;
  sconectl::cli::Services services{.processes = processes, .out = std::cout, .err = std::cerr};
  // The environment is read through Services::variables, as everywhere else.
  if (auto docker = services.variables("SCONECTL_DOCKER"); docker && !docker->empty()) {
    services.docker_program = std::move(*docker);  // and every Docker call goes through it
  } else {
    services.docker_engine_api = true;
  }
  return sconectl::cli::run(argc, argv, services);
}
