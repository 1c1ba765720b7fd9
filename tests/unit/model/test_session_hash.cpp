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
  EXPECT_EQ(session_hash(document),
            "4be8f2efb724119d3e8367a72e73c4bc8986d0b0d8f47e8d50ee87dc9614d67d");
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
