#include "sconectl/cas/attestation.hpp"

#include "sconectl/util/digest.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace sconectl::cas {

namespace {

using Json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t k_key_bytes = 32;
constexpr std::size_t k_iv_bytes = 12;
constexpr std::size_t k_tag_bytes = 16;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyContextDeleter {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, PkeyContextDeleter>;
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

// Lower-case hex only: every hex field of the protocol is written that way.
bool is_hex(std::string_view text, std::size_t digits)
{
  return text.size() == digits && from_hex(text).has_value()
         && std::none_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'F'; });
}

Result<std::string> string_field(const Json& json, const char* name, std::size_t max_size = 4096)
{
  const auto found = json.find(name);
  if (found == json.end() || !found->is_string()) {
    return fail(ErrorKind::manifest, std::string("field '") + name + "' must be a string");
  }
  auto text = found->get<std::string>();
  if (text.size() > max_size) {
    return fail(ErrorKind::manifest, std::string("field '") + name + "' is too long");
  }
  return text;
}

Result<std::string> hex_field(const Json& json, const char* name, std::size_t digits)
{
  auto text = string_field(json, name);
  if (text && !is_hex(*text, digits)) {
    return fail(ErrorKind::manifest,
                std::string("field '") + name + "' must be " + std::to_string(digits)
                    + " lower-case hex digits");
  }
  return text;
}

Result<void> only_fields(const Json& json, std::initializer_list<const char*> names)
{
  if (!json.is_object()) {
    return fail(ErrorKind::manifest, "the body must be a JSON object");
  }
  for (const auto& [key, value] : json.items()) {
    // An init-capture, not the binding itself: clang 14 (clang-tidy) cannot capture a binding.
    if (std::none_of(names.begin(), names.end(), [&field = key](const char* name) {
          return field == name;
        })) {
      return fail(ErrorKind::manifest, "unknown field '" + key.substr(0, 40) + "'");
    }
  }
  return {};
}

Result<Pkey> x25519_public(const Bytes& raw)
{
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, raw.data(), raw.size()));
  if (!key) {
    return fail(ErrorKind::tls, "not an X25519 public key");
  }
  return key;
}

Result<Pkey> x25519_private(const Bytes& raw)
{
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, raw.data(), raw.size()));
  if (!key) {
    return fail(ErrorKind::tls, "not an X25519 private key");
  }
  return key;
}

// HKDF-SHA256(ECDH(own, peer), salt = report data, info = protocol name): the AES-256 key.
Result<Bytes> derive_key(EVP_PKEY& own, EVP_PKEY& peer, const Bytes& report_data)
{
  PkeyContext exchange(EVP_PKEY_CTX_new(&own, nullptr));
  std::size_t shared_size = 0;
  if (!exchange || EVP_PKEY_derive_init(exchange.get()) != 1
      || EVP_PKEY_derive_set_peer(exchange.get(), &peer) != 1
      || EVP_PKEY_derive(exchange.get(), nullptr, &shared_size) != 1) {
    return fail(ErrorKind::tls, "X25519 key agreement failed");
  }
  Bytes shared(shared_size);
  if (EVP_PKEY_derive(exchange.get(), shared.data(), &shared_size) != 1) {
    return fail(ErrorKind::tls, "X25519 key agreement failed");
  }
  PkeyContext hkdf(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  Bytes key(k_key_bytes);
  std::size_t key_size = key.size();
  if (!hkdf || EVP_PKEY_derive_init(hkdf.get()) != 1
      || EVP_PKEY_CTX_set_hkdf_md(hkdf.get(), EVP_sha256()) != 1
      || EVP_PKEY_CTX_set1_hkdf_salt(
             hkdf.get(), report_data.data(), static_cast<int>(report_data.size()))
             != 1
      || EVP_PKEY_CTX_set1_hkdf_key(hkdf.get(), shared.data(), static_cast<int>(shared_size)) != 1
      || EVP_PKEY_CTX_add1_hkdf_info(
             hkdf.get(),
             reinterpret_cast<const unsigned char*>(k_attestation_protocol.data()),
             static_cast<int>(k_attestation_protocol.size()))
             != 1
      || EVP_PKEY_derive(hkdf.get(), key.data(), &key_size) != 1) {
    return fail(ErrorKind::tls, "HKDF failed");
  }
  return key;
}

std::string public_hex(EVP_PKEY& key)
{
  Bytes raw(k_key_bytes);
  std::size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(&key, raw.data(), &size) != 1) {
    return {};
  }
  return to_hex(raw);
}

Result<Pkey> generate_x25519()
{
  PkeyContext context(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!context || EVP_PKEY_keygen_init(context.get()) != 1
      || EVP_PKEY_keygen(context.get(), &raw) != 1) {
    return fail(ErrorKind::tls, "cannot generate an X25519 key");
  }
  return Pkey(raw);
}

}  // namespace

Json to_json(const AttestationNonce& nonce)
{
  return Json{{"nonce", nonce.nonce}, {"expires_in", nonce.expires_in_seconds}};
}

Result<AttestationNonce> attestation_nonce_from_json(const Json& json)
{
  TRY(only_fields(json, {"nonce", "expires_in"}));
  auto nonce = hex_field(json, "nonce", 64);
  if (!nonce) {
    return forward_error(std::move(nonce.error()));
  }
  const auto expires = json.find("expires_in");
  if (expires == json.end() || !expires->is_number_integer()) {
    return fail(ErrorKind::manifest, "field 'expires_in' must be an integer");
  }
  return AttestationNonce{.nonce = *nonce, .expires_in_seconds = expires->get<int>()};
}

Json to_json(const AttestationRequest& request)
{
  Json json{{"config_id", request.config_id},
            {"measurement", request.measurement},
            {"nonce", request.nonce},
            {"public_key", request.public_key},
            {"report_data", request.report_data}};
  if (!request.service_access_token.empty()) {
    json["service_access_token"] = request.service_access_token;
  }
  return json;
}

Result<AttestationRequest> attestation_request_from_json(const Json& json)
{
  if (auto fields = only_fields(json,
                                {"config_id",
                                 "measurement",
                                 "nonce",
                                 "public_key",
                                 "report_data",
                                 "service_access_token"});
      !fields) {
    return forward_error(std::move(fields.error()));
  }
  AttestationRequest request;
  auto config_id = string_field(json, "config_id", 1024);
  auto measurement = hex_field(json, "measurement", 64);
  auto nonce = hex_field(json, "nonce", 64);
  auto public_key = hex_field(json, "public_key", 64);
  auto report_data = hex_field(json, "report_data", 64);
  for (auto* field : {&config_id, &measurement, &nonce, &public_key, &report_data}) {
    if (!*field) {
      return forward_error(std::move(field->error()));
    }
  }
  std::string token;
  if (json.contains("service_access_token")) {
    auto given = string_field(json, "service_access_token", 4096);
    if (!given) {
      return forward_error(std::move(given.error()));
    }
    token = std::move(*given);
  }
  return AttestationRequest{.config_id = *config_id,
                            .measurement = *measurement,
                            .nonce = *nonce,
                            .public_key = *public_key,
                            .report_data = *report_data,
                            .service_access_token = std::move(token)};
}

std::string report_data_of(const AttestationRequest& request)
{
  std::string text(k_attestation_protocol);
  for (const auto* field :
       {&request.config_id, &request.measurement, &request.nonce, &request.public_key}) {
    text += "\n" + *field;
  }
  return to_hex(sha256(text + "\n"));
}

Json to_json(const ProgramConfiguration& configuration)
{
  Json files = Json::array();
  for (const auto& file : configuration.injection_files) {
    files.push_back(Json{{"path", file.path}, {"content", file.content}, {"mode", file.mode}});
  }
  return Json{{"command", configuration.command},
              {"environment", configuration.environment},
              {"host_environment", configuration.host_environment},
              {"pwd", configuration.pwd},
              {"injection_files", files},
              {"attestation_checked", configuration.attestation_checked}};
}

Result<ProgramConfiguration> program_configuration_from_json(const Json& json)
{
  // Anything else in the answer is something the CAS wants done that this runtime does not know
  // how to do: starting without it would run the program under a weaker policy than written.
  const auto cannot_honour = [](const Error& error) {
    return fail(ErrorKind::server,
                "the CAS's configuration asks for what this runtime cannot honour, so it does not "
                "start the program: "
                    + error.message);
  };
  if (auto fields = only_fields(json,
                                {"command",
                                 "environment",
                                 "host_environment",
                                 "pwd",
                                 "injection_files",
                                 "attestation_checked"});
      !fields) {
    return cannot_honour(fields.error());
  }
  if (json.contains("injection_files") && json.at("injection_files").is_array()) {
    for (const auto& file : json.at("injection_files")) {
      if (auto fields = only_fields(file, {"path", "content", "mode"}); !fields) {
        return cannot_honour(fields.error());
      }
    }
  }
  try {
    ProgramConfiguration configuration;
    configuration.command = json.at("command").get<std::vector<std::string>>();
    configuration.environment = json.at("environment").get<std::map<std::string, std::string>>();
    configuration.host_environment = json.at("host_environment").get<std::vector<std::string>>();
    configuration.pwd = json.at("pwd").get<std::string>();
    for (const auto& file : json.at("injection_files")) {
      const auto mode = file.at("mode").get<unsigned>();
      if (mode > 0777) {
        return fail(ErrorKind::server, "malformed configuration from CAS: injection file mode");
      }
      configuration.injection_files.push_back(
          {file.at("path").get<std::string>(), file.at("content").get<std::string>(), mode});
    }
    configuration.attestation_checked = json.at("attestation_checked").get<bool>();
    return configuration;
  } catch (const Json::exception& error) {
    return fail(ErrorKind::server,
                std::string("malformed configuration from CAS: ") + error.what());
  }
}

Result<EphemeralKey> generate_ephemeral_key()
{
  auto key = generate_x25519();
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  EphemeralKey result{.private_key = Bytes(k_key_bytes), .public_key = public_hex(**key)};
  std::size_t size = result.private_key.size();
  if (EVP_PKEY_get_raw_private_key(key->get(), result.private_key.data(), &size) != 1
      || result.public_key.empty()) {
    return fail(ErrorKind::tls, "cannot export the X25519 key");
  }
  return result;
}

Json to_json(const SealedConfiguration& sealed)
{
  return Json{{"server_public_key", sealed.server_public_key},
              {"iv", sealed.iv},
              {"ciphertext", sealed.ciphertext}};
}

Result<SealedConfiguration> sealed_configuration_from_json(const Json& json)
{
  TRY(only_fields(json, {"server_public_key", "iv", "ciphertext"}));
  auto server_key = hex_field(json, "server_public_key", 64);
  auto iv = hex_field(json, "iv", k_iv_bytes * 2);
  auto ciphertext = string_field(json, "ciphertext", 64 * 1024 * 1024);
  for (auto* field : {&server_key, &iv, &ciphertext}) {
    if (!*field) {
      return forward_error(std::move(field->error()));
    }
  }
  return SealedConfiguration{
      .server_public_key = *server_key, .iv = *iv, .ciphertext = *ciphertext};
}

Result<SealedConfiguration> seal_configuration(const AttestationRequest& request,
                                               std::string_view plaintext)
{
  const auto peer_raw = from_hex(request.public_key);
  const auto report_data = from_hex(request.report_data);
  if (!peer_raw || !report_data) {
    return fail(ErrorKind::manifest, "malformed public key or report data");
  }
  auto peer = x25519_public(*peer_raw);
  auto own = generate_x25519();
  if (!peer || !own) {
    return forward_error(std::move(peer ? own.error() : peer.error()));
  }
  auto key = derive_key(**own, **peer, *report_data);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  Bytes iv(k_iv_bytes);
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) {
    return fail(ErrorKind::tls, "no random bytes for the IV");
  }
  CipherContext context(EVP_CIPHER_CTX_new());
  Bytes out(plaintext.size() + k_tag_bytes);
  int written = 0;
  int final_written = 0;
  if (!context
      || EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key->data(), iv.data()) != 1
      || EVP_EncryptUpdate(context.get(),
                           out.data(),
                           &written,
                           reinterpret_cast<const unsigned char*>(plaintext.data()),
                           static_cast<int>(plaintext.size()))
             != 1
      || EVP_EncryptFinal_ex(context.get(), out.data() + written, &final_written) != 1
      || EVP_CIPHER_CTX_ctrl(context.get(),
                             EVP_CTRL_GCM_GET_TAG,
                             static_cast<int>(k_tag_bytes),
                             out.data() + written + final_written)
             != 1) {
    return fail(ErrorKind::tls, "AES-256-GCM encryption failed");
  }
  out.resize(static_cast<std::size_t>(written + final_written) + k_tag_bytes);
  return SealedConfiguration{
      .server_public_key = public_hex(**own), .iv = to_hex(iv), .ciphertext = to_hex(out)};
}

Result<std::string> open_configuration(const AttestationRequest& request,
                                       const EphemeralKey& key,
                                       const SealedConfiguration& sealed)
{
  const auto server_raw = from_hex(sealed.server_public_key);
  const auto report_data = from_hex(request.report_data);
  const auto iv = from_hex(sealed.iv);
  const auto sealed_bytes = from_hex(sealed.ciphertext);
  if (!server_raw || !report_data || !iv || !sealed_bytes || sealed_bytes->size() < k_tag_bytes) {
    return fail(ErrorKind::server, "the CAS's sealed configuration is malformed");
  }
  auto peer = x25519_public(*server_raw);
  auto own = x25519_private(key.private_key);
  if (!peer || !own) {
    return forward_error(std::move(peer ? own.error() : peer.error()));
  }
  auto aes_key = derive_key(**own, **peer, *report_data);
  if (!aes_key) {
    return forward_error(std::move(aes_key.error()));
  }
  const auto cipher_size = sealed_bytes->size() - k_tag_bytes;
  Bytes tag(sealed_bytes->begin() + static_cast<std::ptrdiff_t>(cipher_size), sealed_bytes->end());
  CipherContext context(EVP_CIPHER_CTX_new());
  std::string plaintext(cipher_size, '\0');
  int written = 0;
  int final_written = 0;
  if (!context
      || EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, aes_key->data(), iv->data())
             != 1
      || EVP_DecryptUpdate(context.get(),
                           reinterpret_cast<unsigned char*>(plaintext.data()),
                           &written,
                           sealed_bytes->data(),
                           static_cast<int>(cipher_size))
             != 1
      || EVP_CIPHER_CTX_ctrl(
             context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag_bytes), tag.data())
             != 1
      || EVP_DecryptFinal_ex(context.get(),
                             reinterpret_cast<unsigned char*>(plaintext.data()) + written,
                             &final_written)
             != 1) {
    return fail(ErrorKind::server, "the CAS's sealed configuration does not open with this key");
  }
  plaintext.resize(static_cast<std::size_t>(written + final_written));
  return plaintext;
}

}  // namespace sconectl::cas
