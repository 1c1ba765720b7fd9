#include "certificate_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>
#include <vector>

#include <arpa/inet.h>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

}  // namespace

std::string secret_text(const Json& secret, const char* key, std::string fallback)
{
  return secret.contains(key) && secret.at(key).is_string() ? secret.at(key).get<std::string>()
                                                            : fallback;
}

tl::unexpected<Error> refuse_secret(std::string message)
{
  return fail(ErrorKind::manifest, std::move(message));
}

bool is_ip_address(const std::string& text)
{
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1
         || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

Result<x509::CertificateSpec> certificate_spec(const std::string& name,
                                               const Json& secret,
                                               bool is_ca)
{
  x509::CertificateSpec spec{.common_name = secret_text(secret, "common_name", name),
                             .is_ca = is_ca};
  if (secret.contains("dns")) {
    const auto& dns = secret.at("dns");
    const auto names = dns.is_array() ? dns : Json::array({dns});
    for (const auto& entry : names) {
      if (!entry.is_string()) {
        return refuse_secret("secret '" + name + "': dns must list host names");
      }
      spec.dns_names.push_back(entry.get<std::string>());
    }
  }
  if (secret.contains("san")) {
    const auto& san = secret.at("san");
    if (!san.is_array()) {
      return refuse_secret("secret '" + name + "': san must be a list");
    }
    for (std::size_t i = 0; i < san.size(); ++i) {
      const auto entry = san[i].is_string() ? san[i].get<std::string>() : std::string();
      if (entry.starts_with("dns:") && entry.size() > 4) {
        spec.dns_names.push_back(entry.substr(4));
      } else if (entry.starts_with("ip:") && is_ip_address(entry.substr(3))) {
        spec.ip_addresses.push_back(entry.substr(3));
      } else {
        return refuse_secret("secret '" + name + "': san[" + std::to_string(i)
                             + "] must be \"dns:<name>\" or \"ip:<address>\"");
      }
    }
  }
  if (secret.contains("endpoint")) {
    const auto endpoint = secret_text(secret, "endpoint");
    if (is_ca || (endpoint != "server" && endpoint != "client")) {
      return refuse_secret("secret '" + name + "': endpoint must be server or client"
                           + (is_ca ? std::string(" and is for x509 certificates, not CAs") : ""));
    }
    spec.server_auth = endpoint == "server";
    spec.client_auth = endpoint == "client";
  }
  if (secret.contains("valid_for")) {
    auto validity = parse_validity(secret_text(secret, "valid_for"));
    if (!validity) {
      return refuse_secret("secret '" + name + "': valid_for: " + validity.error().message);
    }
    spec.valid_for = *validity;
  }
  return spec;
}

Result<std::chrono::seconds> parse_validity(std::string_view text)
{
  constexpr std::int64_t k_day = 86400;
  constexpr std::int64_t k_most = 1000 * 365 * k_day;
  static const std::vector<std::pair<std::vector<std::string_view>, std::int64_t>> units = {
      {{"s", "sec", "secs", "second", "seconds"}, 1},
      {{"m", "min", "mins", "minute", "minutes"}, 60},
      {{"h", "hr", "hrs", "hour", "hours"}, 3600},
      {{"d", "day", "days"}, k_day},
      {{"w", "week", "weeks"}, 7 * k_day},
      {{"month", "months"}, 30 * k_day},
      {{"y", "year", "years"}, 365 * k_day},
  };
  const auto invalid = [&] {
    return refuse_secret("'" + std::string(text.substr(0, 40))
                         + "' is not a duration such as \"90 days\", \"1 year\" or \"12h\"");
  };
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || end == text.data() || count <= 0) {
    return invalid();
  }
  auto unit = text.substr(static_cast<std::size_t>(end - text.data()));
  while (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);
  }
  std::string lower(unit);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  for (const auto& [names, seconds] : units) {
    if (std::find(names.begin(), names.end(), lower) != names.end()) {
      if (count > k_most / seconds) {
        return refuse_secret("'" + std::string(text.substr(0, 40)) + "' is longer than 1000 years");
      }
      return std::chrono::seconds(count * seconds);
    }
  }
  return invalid();
}

}  // namespace sconectl::cas::server
