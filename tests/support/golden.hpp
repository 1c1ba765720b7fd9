#pragma once

// Golden-file helpers: expected outputs live in the source tree; SCONECTL_UPDATE_GOLDEN=1
// rewrites them (review the diff before committing).

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sconectl::testing {

inline bool updating_golden_files()
{
  const char* update = std::getenv("SCONECTL_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

// The sub-directories of `dir`, sorted: one test case each.
inline std::vector<std::string> golden_cases(const std::filesystem::path& dir)
{
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory()) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A GoogleTest parameter name for a case ("three-services" -> "three_services").
inline std::string case_test_name(const ::testing::TestParamInfo<std::string>& info)
{
  std::string name = info.param;
  std::replace_if(
      name.begin(),
      name.end(),
      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0; },
      '_');
  return name;
}

// Compares one generated file with its expected copy, or rewrites the copy when updating.
inline void compare_or_update(const std::filesystem::path& expected_file, const std::string& actual)
{
  if (updating_golden_files()) {
    std::filesystem::create_directories(expected_file.parent_path());
    std::ofstream(expected_file, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(expected_file)) << expected_file << " is missing";
  EXPECT_EQ(actual, read_file(expected_file)) << "golden file " << expected_file;
}

// Every regular file under `root`: relative path -> content.
inline std::map<std::string, std::string> read_tree(const std::filesystem::path& root)
{
  std::map<std::string, std::string> files;
  if (!std::filesystem::exists(root)) {
    return files;
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files[std::filesystem::relative(entry.path(), root).generic_string()] =
          read_file(entry.path());
    }
  }
  return files;
}

// Compares the tree `actual` with the expected tree `expected_dir`, file by file, or rewrites the
// expected tree when updating.
inline void compare_or_update_tree(const std::filesystem::path& expected_dir,
                                   const std::map<std::string, std::string>& actual)
{
  if (updating_golden_files()) {
    std::filesystem::remove_all(expected_dir);
    for (const auto& [path, content] : actual) {
      const auto file = expected_dir / path;
      std::filesystem::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary) << content;
    }
    return;
  }
  const auto expected = read_tree(expected_dir);
  for (const auto& [path, content] : expected) {
    const auto found = actual.find(path);
    if (found == actual.end()) {
      ADD_FAILURE() << "not generated: " << (expected_dir / path);
    } else {
      EXPECT_EQ(found->second, content) << "golden file " << (expected_dir / path);
    }
  }
  for (const auto& [path, content] : actual) {
    EXPECT_TRUE(expected.count(path) > 0)
        << "generated but not expected: " << (expected_dir / path);
  }
}

}  // namespace sconectl::testing
