#pragma once

// Private to the local CAS: reading the certificate parameters of x509 and x509-ca secrets.

#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/x509.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace sconectl::cas::server {

// What to issue for secret `name`: common_name (default: the secret's name), `dns` and `san`
// ("dns:<name>", "ip:<address>") and `valid_for`. Errors (ErrorKind::manifest) name the secret.
[[nodiscard]] Result<x509::CertificateSpec> certificate_spec(const std::string& name,
                                                             const model::SessionDocument& secret,
                                                             bool is_ca);

// A certificate lifetime as the session language writes it: "90 days", "1 year", "12h";
// units s, m, h, d, w, y (and month = 30 days), singular, plural or abbreviated; at most 1000
// years.
[[nodiscard]] Result<std::chrono::seconds> parse_validity(std::string_view text);

// A secret's string field ("kind", "issuer", ...), or `fallback` when it is missing or not a
// string.
[[nodiscard]] std::string secret_text(const model::SessionDocument& secret,
                                      const char* key,
                                      std::string fallback = {});

// A refused secret definition: an error of kind manifest, which refuses the session (400).
[[nodiscard]] tl::unexpected<Error> refuse_secret(std::string message);

// True for an IPv4 or IPv6 address in text form.
[[nodiscard]] bool is_ip_address(const std::string& text);

}  // namespace sconectl::cas::server
