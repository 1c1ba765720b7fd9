// Every hand-written session of tests/corpus/sessions (Scontain's tutorials, exercises and demos,
// and published session templates of production CAS clients) goes through what `sconectl session
// check` does, then is created on a local CAS and read back. Each must be either stored whole
// (the stored document equals the one sent, but for the creator the CAS adds) or refused with a
// message that names the construct. EXPECTED.tsv records which, so a change of outcome shows.

#include "cas_fixture.hpp"
#include "sconectl/cas/session_file.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/diagnostic.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace sconectl::cas::testing {
namespace {

namespace stdfs = std::filesystem;

const stdfs::path k_corpus = stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "corpus" / "sessions";

// One row of EXPECTED.tsv: FILE, stored|refused, a phrase the refusal must contain (for stored:
// "-"), and the corpus files that must be created first (comma-separated, or "-").
struct Expectation {
  std::string file;
  bool stored = false;
  std::string phrase;
  std::vector<std::string> requires_files;
  int line = 0;
};

struct Manifest {
  std::size_t minimum_count = 0;
  std::map<std::string, Expectation> rows;
  std::vector<std::string> problems;
};

std::vector<std::string> split(const std::string& text, char separator)
{
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator)) {
    parts.push_back(part);
  }
  return parts;
}

const Manifest& manifest()
{
  static const Manifest loaded = [] {
    Manifest result;
    std::ifstream in(k_corpus / "EXPECTED.tsv");
    if (!in) {
      result.problems.push_back("cannot read EXPECTED.tsv");
      return result;
    }
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line.starts_with('#')) {
        continue;
      }
      const auto fields = split(line, '\t');
      const auto where = "EXPECTED.tsv:" + std::to_string(number) + ": ";
      if (fields.size() == 2 && fields[0] == "minimum-count") {
        result.minimum_count = std::stoul(fields[1]);
        continue;
      }
      if (fields.size() != 4 || (fields[1] != "stored" && fields[1] != "refused")
          || fields[2].empty()) {
        result.problems.push_back(where
                                  + "expected FILE<TAB>stored|refused<TAB>PHRASE<TAB>REQUIRES");
        continue;
      }
      Expectation row{.file = fields[0],
                      .stored = fields[1] == "stored",
                      .phrase = fields[2],
                      .requires_files = {},
                      .line = number};
      if (fields[3] != "-") {
        row.requires_files = split(fields[3], ',');
      }
      if (!result.rows.emplace(row.file, row).second) {
        result.problems.push_back(where + "second row for " + row.file);
      }
    }
    return result;
  }();
  return loaded;
}

std::vector<std::string> corpus_files()
{
  std::vector<std::string> names;
  if (!stdfs::is_directory(k_corpus)) {
    return names;
  }
  for (const auto& entry : stdfs::directory_iterator(k_corpus)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SessionCorpusManifest, EveryFileHasAnExpectationAndTheCorpusDoesNotShrink)
{
  const auto& expected = manifest();
  for (const auto& problem : expected.problems) {
    ADD_FAILURE() << problem;
  }
  const auto files = corpus_files();
  std::set<std::string> present(files.begin(), files.end());
  for (const auto& file : files) {
    EXPECT_TRUE(expected.rows.contains(file)) << file << " has no row in EXPECTED.tsv";
  }
  for (const auto& [file, row] : expected.rows) {
    EXPECT_TRUE(present.contains(file))
        << "EXPECTED.tsv:" << row.line << ": " << file << " is missing from the corpus";
    for (const auto& needed : row.requires_files) {
      EXPECT_TRUE(expected.rows.contains(needed))
          << "EXPECTED.tsv:" << row.line << ": requires unknown file " << needed;
    }
  }
  EXPECT_GT(expected.minimum_count, 0U) << "EXPECTED.tsv names no minimum-count";
  EXPECT_GE(files.size(), expected.minimum_count)
      << "the corpus has shrunk below the count EXPECTED.tsv records";
}

// What happened to one file: the check's and the CAS's messages, or the stored document.
struct Outcome {
  bool stored = false;
  std::string messages;
  std::optional<model::SessionDocument> sent;
  std::optional<model::SessionDocument> read_back;
};

class SessionCorpusTest : public CasTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // `session check`: the file as `session create` reads it (no environment: every tutorial
  // variable is filled in the file), and what the local CAS does not support.
  Outcome check(const std::string& file)
  {
    Outcome outcome;
    SessionFileOptions options;
    options.environment = [](std::string_view) { return std::optional<std::string>(); };
    auto document = load_session_file(k_corpus / file, options);
    if (!document) {
      outcome.messages = document.error().describe() + "\n";
      for (const auto& diagnostic : document.error().diagnostics) {
        outcome.messages += format(diagnostic) + "\n";
      }
      return outcome;
    }
    const auto support = local_cas_support(*document);
    for (const auto& problem : support.unknown) {
      outcome.messages += problem + "\n";
    }
    if (!support.unknown.empty()) {
      return outcome;
    }
    // Notes only: the upload decides.
    for (const auto& problem : support.unsupported) {
      outcome.messages += "note: " + problem + "\n";
    }
    outcome.sent = std::move(*document);
    return outcome;
  }

  // `session create`, then `session read`, as `sconectl session create` sends it.
  Outcome create(const std::string& file)
  {
    auto outcome = check(file);
    if (!outcome.sent) {
      return outcome;
    }
    auto sent = *outcome.sent;
    // `session create` sends no predecessor for `predecessor: ~` (or null).
    if (!predecessor_of(sent)) {
      sent.erase("predecessor");
    }
    outcome.sent = sent;
    const auto response = upload(m_alice, model::to_yaml(sent));
    if (response.status != 201) {
      outcome.messages += "HTTP " + std::to_string(response.status) + ": " + messages_of(response);
      return outcome;
    }
    const auto name = sent.at("name").get<std::string>();
    const auto read_back = read(m_alice, name);
    EXPECT_EQ(read_back.status, 200) << read_back.body;
    if (read_back.status == 200) {
      auto parsed = model::parse_session_yaml(json_of(read_back).at("session").get<std::string>());
      EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().describe());
      if (parsed) {
        outcome.read_back = std::move(*parsed);
      }
    }
    outcome.stored = true;
    return outcome;
  }
};

TEST_P(SessionCorpusTest, IsStoredWholeOrRefusedByName)
{
  const auto file = GetParam();
  const auto& rows = manifest().rows;
  const auto row = rows.find(file);
  ASSERT_NE(row, rows.end()) << file << " has no row in EXPECTED.tsv";

  // The sessions this one imports from or lives in come first. When one of them is refused, so
  // is this file (by the same message): it cannot be created as the tutorial creates it.
  std::string prerequisites_refused;
  for (const auto& needed : row->second.requires_files) {
    const auto prerequisite = create(needed);
    if (!prerequisite.stored) {
      prerequisites_refused += "needs " + needed + ", which is refused: " + prerequisite.messages;
    }
  }
  const auto outcome =
      prerequisites_refused.empty() ? create(file) : Outcome{.messages = prerequisites_refused};
  if (row->second.stored) {
    ASSERT_TRUE(outcome.stored) << file << " was expected to be stored, but: " << outcome.messages;
    ASSERT_TRUE(outcome.read_back);
    // Nothing silently dropped: what is read back is what was sent, plus the creator and, as
    // SCONE's CAS shows a first version, `predecessor: ~`.
    auto stored = *outcome.read_back;
    EXPECT_EQ(stored.value("creator", ""), m_alice.key_hash);
    stored.erase("creator");
    ASSERT_TRUE(stored.contains("predecessor") && stored.at("predecessor").is_null())
        << file << ": a first version read back without predecessor: ~";
    stored.erase("predecessor");
    EXPECT_EQ(stored, *outcome.sent) << file << ": sent\n"
                                     << outcome.sent->dump(2) << "\nread back\n"
                                     << stored.dump(2);
  } else {
    ASSERT_FALSE(outcome.stored) << file << " was expected to be refused (\"" << row->second.phrase
                                 << "\"), but was stored";
    EXPECT_NE(outcome.messages.find(row->second.phrase), std::string::npos)
        << file << ": the refusal does not name \"" << row->second.phrase << "\":\n"
        << outcome.messages;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info)
{
  std::string name = stdfs::path(info.param).stem().string();
  std::replace_if(
      name.begin(),
      name.end(),
      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0; },
      '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scontain,
                         SessionCorpusTest,
                         ::testing::ValuesIn(corpus_files()),
                         test_name);

}  // namespace
}  // namespace sconectl::cas::testing
