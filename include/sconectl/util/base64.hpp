#pragma once

#include <optional>
#include <string>
#include <string_view>

// Base64 (RFC 4648) with OpenSSL's codec: Docker's stored logins and X-Registry-Auth, HTTP basic
// auth, the CAS's base64 secret formats, curl's key pins.
namespace sconectl::base64 {

enum class Alphabet {
  standard,  // A-Z a-z 0-9 + /
  url,       // - and _ instead of + and /
};

// With padding ("=") in either alphabet.
[[nodiscard]] std::string encode(std::string_view bytes, Alphabet alphabet = Alphabet::standard);

// The bytes of padded standard base64; std::nullopt when `text` is not that (a length that is
// not a multiple of 4, a character outside the alphabet, padding inside).
[[nodiscard]] std::optional<std::string> decode(std::string_view text);

}  // namespace sconectl::base64
