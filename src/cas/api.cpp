#include "sconectl/cas/api.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <vector>

namespace sconectl::cas {

namespace {

nlohmann::json optional_string(const std::optional<std::string>& value)
{
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

Result<std::optional<std::string>> read_optional(const nlohmann::json& json, const char* key)
{
  if (!json.contains(key) || json.at(key).is_null()) {
    return std::optional<std::string>();
  }
  if (!json.at(key).is_string()) {
    return fail(ErrorKind::server, std::string("the CAS answered with a non-string '") + key + "'");
  }
  return std::optional<std::string>(json.at(key).get<std::string>());
}

Result<std::string> read_required(const nlohmann::json& json, const char* key)
{
  if (!json.is_object() || !json.contains(key) || !json.at(key).is_string()) {
    return fail(ErrorKind::server, std::string("the CAS answer lacks '") + key + "'");
  }
  return json.at(key).get<std::string>();
}

}  // namespace

nlohmann::json to_json(const SessionRecord& record)
{
  return {{"name", record.name},
          {"hash", record.hash},
          {"predecessor", optional_string(record.predecessor)},
          {"creator", record.creator},
          {"session", record.session}};
}

Result<SessionRecord> session_record_from_json(const nlohmann::json& json)
{
  SessionRecord record;
  for (auto [key, field] : {std::pair{"name", &record.name},
                            std::pair{"hash", &record.hash},
                            std::pair{"creator", &record.creator},
                            std::pair{"session", &record.session}}) {
    auto value = read_required(json, key);
    if (!value) {
      return forward_error(std::move(value.error()));
    }
    *field = std::move(*value);
  }
  auto predecessor = read_optional(json, "predecessor");
  if (!predecessor) {
    return forward_error(std::move(predecessor.error()));
  }
  record.predecessor = std::move(*predecessor);
  return record;
}

nlohmann::json to_json(const UploadReceipt& receipt)
{
  return {{"name", receipt.name},
          {"hash", receipt.hash},
          {"predecessor", optional_string(receipt.predecessor)}};
}

Result<UploadReceipt> upload_receipt_from_json(const nlohmann::json& json)
{
  auto name = read_required(json, "name");
  auto hash = read_required(json, "hash");
  if (!name || !hash) {
    return tl::unexpected(!name ? name.error() : hash.error());
  }
  auto predecessor = read_optional(json, "predecessor");
  if (!predecessor) {
    return forward_error(std::move(predecessor.error()));
  }
  return UploadReceipt{std::move(*name), std::move(*hash), std::move(*predecessor)};
}

nlohmann::json to_json(const CurrentVersions& versions)
{
  nlohmann::json sessions = nlohmann::json::object();
  for (const auto& [name, version] : versions) {
    sessions[name] =
        version ? nlohmann::json{{"hash", version->hash},
                                 {"predecessor",
                                  version->predecessor ? nlohmann::json(*version->predecessor)
                                                       : nlohmann::json()},
                                 {"creator", version->creator}}
                : nlohmann::json();
  }
  return nlohmann::json{{"sessions", std::move(sessions)}};
}

Result<CurrentVersions> current_versions_from_json(const nlohmann::json& json)
{
  if (!json.is_object() || !json.contains("sessions") || !json.at("sessions").is_object()) {
    return fail(ErrorKind::server, "expected {\"sessions\": {...}}");
  }
  CurrentVersions versions;
  for (const auto& [name, entry] : json.at("sessions").items()) {
    if (entry.is_null()) {
      versions[name] = std::nullopt;
      continue;
    }
    auto hash = read_required(entry, "hash");
    auto creator = read_required(entry, "creator");
    if (!hash || !creator) {
      return fail(ErrorKind::server,
                  "sessions." + name + ": " + (!hash ? hash.error() : creator.error()).message);
    }
    auto predecessor = read_optional(entry, "predecessor");
    if (!predecessor) {
      return forward_error(std::move(predecessor.error()));
    }
    versions[name] = CurrentVersion{std::move(*hash), std::move(*predecessor), std::move(*creator)};
  }
  return versions;
}

std::string error_body(const std::vector<std::string>& messages,
                       const std::optional<std::string>& current_hash)
{
  nlohmann::json body{{"msg", messages}};
  if (current_hash) {
    body["current"] = *current_hash;
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> error_messages(std::string_view body)
{
  std::vector<std::string> parts;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("msg") && json.at("msg").is_array()) {
    for (const auto& part : json.at("msg")) {
      if (part.is_string()) {
        parts.push_back(part.get<std::string>());
      }
    }
  }
  return parts;
}

std::string error_message(std::string_view body)
{
  const auto parts = error_messages(body);
  // "what: why" on one line; a list of problems (an invalid session) one per line.
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    joined += (i == 0 ? "" : parts.size() > 2 ? "\n  " : ": ") + parts[i];
  }
  if (!joined.empty()) {
    return joined;
  }
  constexpr std::size_t k_shown = 200;
  std::string text(body.substr(0, k_shown));
  for (auto& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  return text.empty() ? "(empty answer)" : text + (body.size() > k_shown ? "..." : "");
}

std::optional<std::string> conflict_current_hash(std::string_view body)
{
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("current") && json.at("current").is_string()) {
    return json.at("current").get<std::string>();
  }
  return std::nullopt;
}

std::string CasAddress::authority() const
{
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<CasAddress> parse_cas_address(std::string_view text)
{
  auto invalid = [&](const std::string& why) {
    return fail(ErrorKind::usage, "CAS address '" + std::string(text.substr(0, 100)) + "': " + why);
  };
  if (text.starts_with("https://")) {
    text.remove_prefix(8);
    if (!text.empty() && text.back() == '/') {
      text.remove_suffix(1);
    }
  }
  CasAddress address;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return invalid("an IPv6 address needs a closing ']'");
    }
    address.host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return invalid("expected ':port' after ']'");
      }
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    address.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) {
        return invalid("write IPv6 addresses in brackets, as [::1]:8081");
      }
      port_text = text.substr(colon + 1);
    }
  }
  if (address.host.empty()) {
    return invalid("no host");
  }
  for (const char c : address.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'
          || c == '_')) {
      return invalid("a host is a name or an IP address");
    }
  }
  if (!port_text.empty() || text.ends_with(":")) {
    int port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1
        || port > 65535) {
      return invalid("the port must be a number from 1 to 65535");
    }
    address.port = port;
  }
  return address;
}

}  // namespace sconectl::cas
