// Known answers for the session hash (docs/cas.md, "Session hash"): fixed documents and the hex a
// separate implementation (Python's json.dumps with sorted keys and no whitespace, then SHA-256)
// computed for them. A change to the canonical form breaks every stored chain, so it must show.

#include "sconectl/model/session.hpp"

#include <gtest/gtest.h>

namespace sconectl::model {
namespace {

TEST(SessionHashTest, MatchesTheKnownAnswer)
{
  // Keys deliberately out of order, nested objects and lists, non-ASCII text, an escaped quote,
  // a slash, booleans, a number and null.
  const SessionDocument document = SessionDocument::parse(R"({
    "version": "0.3.10",
    "name": "ns/svc",
    "services": [{"name": "app", "command": "python3 /app/x.py",
                  "environment": {"GREETING": "grüße / \"hi\"", "N": "1"},
                  "mrenclaves": ["abababababababababababababababababababababababababababababababab"],
                  "pwd": "/app"}],
    "creator": "creator-key",
    "predecessor": null,
    "flags": {"b": true, "a": false, "count": 3}
  })");
  // A null predecessor is no predecessor (a first version as SCONE's CAS shows it): the hash of
  // the document without the key.
  EXPECT_EQ(session_hash(document),
            "7faf507094a073a3617192115670d48fe9c5becf373510c8c33d970098ca6950");
  auto updated = document;
  updated["predecessor"] = [] {
    std::string hash;
    for (int i = 0; i < 32; ++i) {
      hash += "ab";
    }
    return hash;
  }();
  EXPECT_EQ(session_hash(updated),
            "34942e6d151b743daca1223b296273c243c8cb71d96f931598c33776a7f0ef02");
}

TEST(SessionHashTest, KeyOrderDoesNotMatterButEveryValueDoes)
{
  const auto a = SessionDocument::parse(R"({"name": "ns/a", "version": "0.3.10"})");
  const auto b = SessionDocument::parse(R"({"version": "0.3.10", "name": "ns/a"})");
  const auto c = SessionDocument::parse(R"({"version": "0.3.10", "name": "ns/b"})");
  EXPECT_EQ(session_hash(a), session_hash(b));
  EXPECT_NE(session_hash(a), session_hash(c));
  // SHA-256 of {"name":"ns/a","version":"0.3.10"}
  EXPECT_EQ(session_hash(a), "c04bb6ddb216114a488b01a558d9b94fc1998d9c4e6aee82028a2504b79b0632");
}

}  // namespace
}  // namespace sconectl::model
