#include "data_dir.hpp"

#include "certificate_spec.hpp"
#include "sconectl/util/fs.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace sconectl::cas::server {

namespace {

namespace stdfs = std::filesystem;

Result<void> create_private_directory(const stdfs::path& directory)
{
  std::error_code error;
  if (stdfs::create_directories(directory, error)) {
    stdfs::permissions(directory, stdfs::perms::owner_all, stdfs::perm_options::replace, error);
  }
  if (error || !stdfs::is_directory(directory)) {
    return fail(ErrorKind::io,
                "cannot create the CAS data directory " + directory.string()
                    + (error ? ": " + error.message() : ""));
  }
  const auto permissions = stdfs::status(directory, error).permissions();
  if (!error
      && (permissions & (stdfs::perms::group_all | stdfs::perms::others_all))
             != stdfs::perms::none) {
    spdlog::warn("the CAS data directory {} is accessible to other users; it holds secrets",
                 directory.string());
  }
  return {};
}

Result<TlsIdentity> load_or_create_cas_identity(const stdfs::path& path,
                                                const std::vector<std::string>& extra_names)
{
  std::error_code error;
  if (stdfs::exists(path, error)) {
    auto text = fs::read_text_file(path);
    if (!text) {
      return forward_error(std::move(text.error()));
    }
    auto identity = parse_identity(*text);
    if (!identity) {
      return forward_error(std::move(identity.error()), "reading " + path.string());
    }
    return identity;
  }
  IdentitySubject subject{.common_name = "cas-instance",
                          .dns_names = {"cas", "localhost"},
                          .ip_addresses = {"127.0.0.1", "::1"}};
  for (const auto& name : extra_names) {
    (is_ip_address(name) ? subject.ip_addresses : subject.dns_names).push_back(name);
  }
  auto identity = create_identity(subject);
  if (!identity) {
    return forward_error(std::move(identity.error()));
  }
  if (auto written =
          fs::write_file_atomically(path, to_pem(*identity), fs::FileMode::private_to_owner);
      !written) {
    return forward_error(std::move(written.error()));
  }
  return identity;
}

}  // namespace

Result<DataDir> prepare_data_dir(const LocalCasOptions& options)
{
  if (options.data_dir.empty()) {
    return fail(ErrorKind::usage, "the local CAS needs a data directory");
  }
  std::error_code error;
  const auto directory = stdfs::absolute(options.data_dir, error);
  if (error) {
    return fail(ErrorKind::io,
                "cannot resolve " + options.data_dir.string() + ": " + error.message());
  }
  TRY(create_private_directory(directory));
  auto identity = load_or_create_cas_identity(directory / "identity.pem", options.extra_names);
  if (!identity) {
    return forward_error(std::move(identity.error()));
  }
  DataDir data{.identity = std::move(*identity),
               .certificate = directory / "cas.crt",
               .database = directory / "cas.db"};
  if (auto written = fs::write_file_atomically(data.certificate, data.identity.certificate_pem);
      !written) {
    return forward_error(std::move(written.error()));
  }
  stdfs::permissions(data.certificate,
                     stdfs::perms::owner_read | stdfs::perms::owner_write | stdfs::perms::group_read
                         | stdfs::perms::others_read,
                     stdfs::perm_options::replace,
                     error);
  return data;
}

}  // namespace sconectl::cas::server
