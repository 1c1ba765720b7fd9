// sconectl-runtime-sim: the simulation runtime's executable (see sconectl/runtime/runtime.hpp).
#include "sconectl/runtime/runtime.hpp"

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <sys/prctl.h>

extern char** environ;

int main(int argc, char** argv)
{
  // The runtime holds the sealed configuration and its token: closed to a shell in the container
  // without CAP_SYS_PTRACE (docs/security.md). The program it starts is made so by runtime::run.
  static_cast<void>(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
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
