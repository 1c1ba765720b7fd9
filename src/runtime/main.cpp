// sconectl-runtime-sim: the simulation runtime's executable (see sconectl/runtime/runtime.hpp).
#include "sconectl/runtime/runtime.hpp"

#include <iostream>
#include <map>
#include <string>
#include <vector>

extern char** environ;

int main(int argc, char** argv)
{
  std::vector<std::string> arguments(argv + 1, argv + argc);
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto equals = text.find('=');
    if (equals != std::string::npos) {
      environment.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
  }
  return sconectl::runtime::run(arguments, environment, std::cout, std::cerr);
}
