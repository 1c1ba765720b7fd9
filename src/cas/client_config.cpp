#include "sconectl/cas/client_config.hpp"

#include "sconectl/util/fs.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::cas {

namespace {

namespace stdfs = std::filesystem;

const char* const k_trust_names[] = {"pinned-key", "ca", "any"};

std::optional<TrustMode> trust_mode_from(const std::string& text)
{
  for (int i = 0; i < 3; ++i) {
    if (text == k_trust_names[i]) {
      return static_cast<TrustMode>(i);
    }
  }
  return std::nullopt;
}

tl::unexpected<Error> config_error(const stdfs::path& file, const std::string& why)
{
  return fail(ErrorKind::io, file.string() + ": " + why);
}

Result<AttestedCas> attested_from_json(const stdfs::path& file,
                                       const std::string& address,
                                       const nlohmann::json& json)
{
  if (!json.is_object()) {
    return config_error(file, "cas_db." + address + ": expected an object");
  }
  AttestedCas cas;
  for (auto [key, target] : {std::pair{"url", &cas.url},
                             std::pair{"chain", &cas.chain},
                             std::pair{"cas_key", &cas.cas_key},
                             std::pair{"ca", &cas.ca}}) {
    if (const auto found = json.find(key); found != json.end()) {
      if (!found->is_string()) {
        return config_error(file, "cas_db." + address + "." + key + ": expected a string");
      }
      *target = found->get<std::string>();
    }
  }
  if (json.contains("trust") && !json.at("trust").is_string()) {
    return config_error(file, "cas_db." + address + ".trust: expected pinned-key, ca or any");
  }
  // Entries written by other tools carry no trust mode; their chain is what was attested.
  const auto trust = trust_mode_from(json.value("trust", "pinned-key"));
  if (!trust) {
    return config_error(file, "cas_db." + address + ".trust: expected pinned-key, ca or any");
  }
  cas.trust = *trust;
  return cas;
}

// A directory that sconectl creates for config.json is private (0700); one that exists already,
// perhaps shared with other files ($SCONE_CLI_CONFIG may point anywhere), keeps its mode.
void create_private_directory(const stdfs::path& directory)
{
  std::error_code error;
  if (directory.empty() || stdfs::exists(directory, error)) {
    return;
  }
  if (stdfs::create_directories(directory, error)) {
    ::chmod(directory.c_str(), 0700);
  }
}

// An exclusive lock beside config.json for read-modify-write; released when the descriptor closes.
class ConfigLock {
 public:
  static Result<ConfigLock> acquire(const stdfs::path& file)
  {
    create_private_directory(file.parent_path());
    const auto lock_path = file.string() + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
      const int saved = errno;
      if (fd >= 0) {
        ::close(fd);
      }
      return fail(ErrorKind::io, "cannot lock " + lock_path + ": " + std::strerror(saved));
    }
    return ConfigLock(fd);
  }
  ConfigLock(ConfigLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  ConfigLock& operator=(ConfigLock&&) = delete;
  ~ConfigLock()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }

 private:
  explicit ConfigLock(int fd) : m_fd(fd) {}
  int m_fd;
};

}  // namespace

const char* to_string(TrustMode mode)
{
  return k_trust_names[static_cast<int>(mode)];
}

Result<stdfs::path> config_file_path(const std::optional<stdfs::path>& option,
                                     const manifest::VariableLookup& environment)
{
  if (option) {
    return *option / "config.json";
  }
  if (auto dir = environment("SCONECTL_CAS_CONFIG"); dir && !dir->empty()) {
    return stdfs::path(*dir) / "config.json";
  }
  if (auto file = environment("SCONE_CLI_CONFIG"); file && !file->empty()) {
    return stdfs::path(*file);
  }
  if (auto home = environment("HOME"); home && !home->empty()) {
    return stdfs::path(*home) / ".cas" / "config.json";
  }
  return fail(ErrorKind::usage,
              "no CAS configuration directory: set HOME or SCONECTL_CAS_CONFIG, or pass "
              "--cas-config");
}

Result<ClientConfig> load_client_config(const stdfs::path& file)
{
  std::error_code error;
  if (!stdfs::exists(file, error)) {
    return ClientConfig{};
  }
  auto text = fs::read_text_file(file);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) {
    return config_error(file, "not a JSON object");
  }
  ClientConfig config;
  for (auto& [key, value] : json.items()) {
    if ((key == "default_cas" || key == "identity") && !value.is_string()) {
      return config_error(file, key + ": expected a string");
    }
    if (key == "cas_db" && !value.is_object()) {
      return config_error(file, "cas_db: expected an object of attested CASes");
    }
    if (key == "default_cas") {
      config.default_cas = value.get<std::string>();
    } else if (key == "identity") {
      config.identity = value.get<std::string>();
    } else if (key == "cas_db") {
      for (auto& [address, entry] : value.items()) {
        auto cas = attested_from_json(file, address, entry);
        if (!cas) {
          return forward_error(std::move(cas.error()));
        }
        config.cas_db.emplace(address, std::move(*cas));
      }
    } else {
      config.other[key] = value;
    }
  }
  return config;
}

Result<void> save_client_config(const stdfs::path& file, const ClientConfig& config)
{
  nlohmann::json json = config.other;
  if (config.default_cas) {
    json["default_cas"] = *config.default_cas;
  }
  json["identity"] = config.identity;
  auto db = nlohmann::json::object();
  for (const auto& [address, cas] : config.cas_db) {
    nlohmann::json entry{{"url", cas.url},
                         {"chain", cas.chain},
                         {"cas_key", cas.cas_key},
                         {"trust", to_string(cas.trust)}};
    if (!cas.ca.empty()) {
      entry["ca"] = cas.ca;
    }
    db[address] = std::move(entry);
  }
  json["cas_db"] = std::move(db);
  create_private_directory(file.parent_path());
  return fs::write_file_atomically(file, json.dump(2) + "\n", fs::FileMode::private_to_owner);
}

Result<ClientConfig> update_client_config(const stdfs::path& file,
                                          const std::function<Result<void>(ClientConfig&)>& change)
{
  auto lock = ConfigLock::acquire(file);
  if (!lock) {
    return forward_error(std::move(lock.error()));
  }
  auto config = load_client_config(file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  TRY(change(*config));
  TRY(save_client_config(file, *config));
  return config;
}

Result<ClientConfig> load_or_create_identity(const stdfs::path& file)
{
  auto config = load_client_config(file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  if (!config->identity.empty()) {
    if (auto valid = parse_identity(config->identity); !valid) {
      return config_error(file, "identity: " + valid.error().message);
    }
    return config;
  }
  return update_client_config(file, [](ClientConfig& current) -> Result<void> {
    if (!current.identity.empty()) {
      return {};  // another process created it while we waited for the lock
    }
    auto identity = create_identity(
        IdentitySubject{.common_name = "sconectl client", .dns_names = {"sconectl-client"}});
    if (!identity) {
      return forward_error(std::move(identity.error()));
    }
    current.identity = to_pem(*identity);
    return {};
  });
}

}  // namespace sconectl::cas
