#include "sconectl/cli/app.hpp"

#include <iostream>

int main(int argc, char** argv)
{
  sconectl::PosixProcessRunner processes;
  sconectl::cli::Services services{.processes = processes, .out = std::cout, .err = std::cerr};
  return sconectl::cli::run(argc, argv, services);
}
