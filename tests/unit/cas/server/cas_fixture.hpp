#pragma once

// Shared by the local CAS tests: a request handler over a temporary store, and client identities.

#include "request_handler.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/util/x509.hpp"
#include "store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace sconectl::cas::testing {

using server::CasRequest;
using server::CasResponse;

// A client: a fresh P-256 key and its key hash.
struct Client {
  std::string private_key;
  std::string key_hash;
};

inline Client new_client()
{
  auto key = x509::generate_private_key(x509::KeyType::p256);
  auto spki = x509::private_key_spki(*key);
  return Client{*key, key_hash_of_spki(*spki)};
}

inline nlohmann::json json_of(const CasResponse& response)
{
  return nlohmann::json::parse(response.body);
}

// The messages of an error body joined with " | ".
inline std::string messages_of(const CasResponse& response)
{
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  std::string joined;
  if (body.is_object() && body.contains("msg")) {
    for (const auto& message : body.at("msg")) {
      joined += (joined.empty() ? "" : " | ") + message.get<std::string>();
    }
  }
  return joined;
}

class CasTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Closes the store and opens it again, as a restart of the CAS does.
  void reopen()
  {
    m_cas.reset();
    auto opened = server::RequestHandler::open(database(), m_options);
    ASSERT_TRUE(opened) << opened.error().describe();
    m_cas = std::move(*opened);
  }

  [[nodiscard]] std::filesystem::path database() const { return m_dir.path() / "cas.db"; }

  LocalCasOptions m_options;  // as `cas serve` starts by default; reopen() applies changes

  CasResponse upload(const Client& client,
                     const std::string& yaml,
                     const std::string& content_type = "application/yaml")
  {
    return m_cas->handle(CasRequest{.requester = client.key_hash,
                                    .method = "POST",
                                    .path = "/v1/sessions",
                                    .content_type = content_type,
                                    .body = yaml});
  }

  CasResponse get(const std::optional<std::string>& requester,
                  const std::string& path,
                  const std::string& query = "")
  {
    return m_cas->handle(
        CasRequest{.requester = requester, .method = "GET", .path = path, .query = query});
  }

  CasResponse read(const Client& client, const std::string& name, const std::string& query = "")
  {
    return get(client.key_hash, "/v1/sessions/" + name, query);
  }

  // Creates a session and returns its hash (failing the test when the upload fails).
  std::string create(const Client& client, const std::string& yaml)
  {
    const auto response = upload(client, yaml);
    EXPECT_EQ(response.status, 201) << response.body;
    return response.status == 201 ? json_of(response).at("hash").get<std::string>() : "";
  }

  // The generated secret values of a session, read from the database itself.
  server::SecretValues stored_secrets(const std::string& session)
  {
    auto store = server::Store::open(database());
    EXPECT_TRUE(store);
    auto values = (*store)->secrets(session);
    EXPECT_TRUE(values);
    return values ? *values : server::SecretValues{};
  }

  sconectl::testing::TempDir m_dir;
  std::unique_ptr<server::RequestHandler> m_cas;
  Client m_alice = new_client();
  Client m_bob = new_client();
};

// A minimal valid session (no services) with extra top-level YAML appended.
inline std::string session_yaml(const std::string& name, const std::string& extra = "")
{
  return "version: \"0.3.10\"\nname: \"" + name + "\"\n" + extra;
}

// A `salt:` line (16 bytes, hex) that makes versions of the same session differ.
inline std::string salt_line(int n)
{
  auto digits = std::to_string(n);
  return "salt: \"" + std::string(32 - digits.size(), '0') + digits + "\"\n";
}

inline std::string with_predecessor(const std::string& yaml, const std::string& hash)
{
  return yaml + "predecessor: \"" + hash + "\"\n";
}

}  // namespace sconectl::cas::testing
