#pragma once

// Shared by the verify tests: findings as sorted "severity:kind" strings, so an expectation lists
// exactly what must be found, nothing missed and nothing extra.

#include "sconectl/verify/finding.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace sconectl::verify {

inline std::vector<std::string> finding_kinds(const std::vector<Finding>& findings)
{
  std::vector<std::string> result;
  for (const auto& finding : findings) {
    result.push_back(std::string(to_string(finding.severity)) + ":" + finding.kind);
  }
  std::sort(result.begin(), result.end());
  return result;
}

}  // namespace sconectl::verify
