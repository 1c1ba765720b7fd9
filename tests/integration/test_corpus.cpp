// Every file in tests/corpus/invalid is a manifest with a known mistake. The real binary must
// reject each with exit code 2, print exactly the expected diagnostics, and write nothing.

#include "golden.hpp"
#include "sconectl/util/process.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace sconectl {
namespace {

namespace stdfs = std::filesystem;

const stdfs::path k_corpus = stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "corpus" / "invalid";
// Manifests written as Scontain's examples write them, which must validate (block scalars).
const stdfs::path k_valid_corpus = stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "corpus" / "valid";

std::vector<std::string> corpus_cases(const stdfs::path& corpus = k_corpus)
{
  std::vector<std::string> names;
  if (!stdfs::exists(corpus)) {
    return names;
  }
  for (const auto& entry : stdfs::directory_iterator(corpus)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::set<std::string> listing(const stdfs::path& dir)
{
  std::set<std::string> names;
  for (const auto& entry : stdfs::recursive_directory_iterator(dir)) {
    names.insert(entry.path().string());
  }
  return names;
}

// Corpus variables: one defined, and SCONECTL_CORPUS_UNSET_* never set.
std::map<std::string, std::string> corpus_environment()
{
  return {{"SCONECTL_CORPUS_DEFINED", "defined-value"}};
}

Completed run_sconectl(std::vector<std::string> args, const stdfs::path& working_dir = k_corpus)
{
  for (const auto* name :
       {"SCONECTL_CORPUS_UNSET_A", "SCONECTL_CORPUS_UNSET_B", "SCONECTL_CORPUS_UNSET_C"}) {
    ::unsetenv(name);
  }
  PosixProcessRunner runner;
  auto result = runner.run(Command{.program = SCONECTL_BINARY,
                                   .args = std::move(args),
                                   .extra_env = corpus_environment(),
                                   .working_dir = working_dir,
                                   .timeout = std::chrono::seconds(20)});
  if (!result) {
    ADD_FAILURE() << result.error().message;
    return {};
  }
  return *result;
}

class CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, ValidateRejectsWithTheExpectedDiagnostics)
{
  const auto name = GetParam();
  const auto expected_path = k_corpus / (name + ".expected");
  ASSERT_TRUE(stdfs::exists(expected_path)) << "missing " << expected_path;
  const auto before = listing(k_corpus);
  const auto result = run_sconectl({"validate", "-f", name + ".yaml"});
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, testing::read_file(expected_path));
  EXPECT_EQ(listing(k_corpus), before);
}

TEST_P(CorpusTest, ApplyRejectsAndWritesNothing)
{
  const auto name = GetParam();
  testing::TempDir scratch;
  const auto target = scratch.path() / "target";
  const auto before = listing(k_corpus);
  const auto result =
      run_sconectl({"apply", "-f", name + ".yaml", "--dry-run", "-t", target.string()});
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_FALSE(stdfs::exists(target));
  EXPECT_EQ(listing(k_corpus), before);
}

INSTANTIATE_TEST_SUITE_P(Invalid,
                         CorpusTest,
                         ::testing::ValuesIn(corpus_cases()),
                         testing::case_test_name);

class ValidCorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidCorpusTest, ValidateAcceptsIt)
{
  const auto result = run_sconectl({"validate", "-f", GetParam() + ".yaml"}, k_valid_corpus);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
}

INSTANTIATE_TEST_SUITE_P(Valid,
                         ValidCorpusTest,
                         ::testing::ValuesIn(corpus_cases(k_valid_corpus)),
                         testing::case_test_name);

TEST(CorpusSizeTest, TheValidCorpusIsThere)
{
  EXPECT_GE(corpus_cases(k_valid_corpus).size(), 4U) << k_valid_corpus;
}

// The corpus held this many cases when this line was last changed; raise it when adding some. A
// test run that finds fewer (a missing or moved folder, a renamed extension) fails here instead of
// passing with nothing checked.
constexpr std::size_t k_corpus_cases = 144;

TEST(CorpusSizeTest, EveryFileOfTheCorpusIsACaseAndNoneIsMissing)
{
  ASSERT_TRUE(stdfs::is_directory(k_corpus)) << k_corpus << " is missing";
  std::size_t manifests = 0;
  for (const auto& entry : stdfs::directory_iterator(k_corpus)) {
    if (!entry.is_regular_file()) {
      continue;  // files/ holds inputs that cases refer to
    }
    const auto& path = entry.path();
    if (path.extension() == ".yaml") {
      ++manifests;
      EXPECT_TRUE(stdfs::exists(stdfs::path(path).replace_extension(".expected")))
          << path << " has no .expected file";
    } else if (path.extension() == ".expected") {
      EXPECT_TRUE(stdfs::exists(stdfs::path(path).replace_extension(".yaml")))
          << path << " has no .yaml case";
    } else {
      ADD_FAILURE() << path << " is neither a case (.yaml) nor its expectation (.expected)";
    }
  }
  EXPECT_EQ(corpus_cases().size(), manifests);
  EXPECT_GE(corpus_cases().size(), k_corpus_cases);
}

}  // namespace
}  // namespace sconectl
