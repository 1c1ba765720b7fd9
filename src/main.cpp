#include "sconectl/cli/app.hpp"

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv)
{
  sconectl::PosixProcessRunner processes;
  sconectl::cli::Services services{.processes = processes, .out = std::cout, .err = std::cerr};
  if (const char* docker = std::getenv("SCONECTL_DOCKER"); docker != nullptr && *docker != '\0') {
    services.docker_program = docker;  // and every Docker call goes through it
  } else {
    services.docker_engine_api = true;
  }
  return sconectl::cli::run(argc, argv, services);
}
