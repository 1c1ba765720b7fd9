#pragma once

#include "sconectl/manifest/load.hpp"

#include <map>
#include <optional>
#include <string>

namespace sconectl::testing {

// A variable lookup backed by a map, so tests never depend on the real environment.
inline manifest::VariableLookup variables(std::map<std::string, std::string> values = {})
{
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto found = values.find(std::string(name));
    if (found == values.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

// The diagnostics of a report, formatted one per line, for exact comparisons.
inline std::string formatted(const manifest::LoadReport& report)
{
  std::string text;
  for (const auto& diagnostic : report.diagnostics) {
    text += format(diagnostic) + "\n";
  }
  return text;
}

// A minimal valid service manifest; tests append or replace parts of it.
inline constexpr const char* k_minimal_service = R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: GREETING
      value: hello
build:
  name: hello
  kind: python
  to: registry.example.com/team/hello:1
  command: python3 hello.py
)";

}  // namespace sconectl::testing
