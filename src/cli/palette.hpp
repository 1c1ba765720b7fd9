#pragma once

// Private to the CLI: colours for the reports of diff and verify.

#include "sconectl/manifest/variables.hpp"

#include <iostream>
#include <string>

#include <unistd.h>

namespace sconectl::cli {

// ANSI colours, only for a terminal and never with NO_COLOR (no-color.org).
struct Palette {
  bool on = false;
  [[nodiscard]] std::string paint(const char* code, const std::string& text) const
  {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  [[nodiscard]] std::string red(const std::string& text) const { return paint("31", text); }
  [[nodiscard]] std::string yellow(const std::string& text) const { return paint("33", text); }
  [[nodiscard]] std::string green(const std::string& text) const { return paint("32", text); }
  [[nodiscard]] std::string bold(const std::string& text) const { return paint("1", text); }
};

inline Palette palette_for(const std::ostream& out, const manifest::VariableLookup& variables)
{
  const auto no_color = variables("NO_COLOR");
  return Palette{.on = &out == &std::cout && ::isatty(STDOUT_FILENO) != 0
                       && (!no_color || no_color->empty())};
}

}  // namespace sconectl::cli
