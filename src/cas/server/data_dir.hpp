#pragma once

// Private to the local CAS: its data directory (identity.pem, cas.crt, cas.db).

#include "sconectl/cas/identity.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>

namespace sconectl::cas::server {

struct DataDir {
  TlsIdentity identity;
  std::filesystem::path certificate;  // cas.crt, absolute
  std::filesystem::path database;     // cas.db
};

// Creates the directory (0700) and, on first start, the identity (identity.pem, 0600): CN
// "cas-instance", names cas, localhost, 127.0.0.1, ::1 and `options.extra_names`. Later starts
// reuse it, so the CAS key hash stays the same. (Re)writes cas.crt (0644) for clients to pin.
[[nodiscard]] Result<DataDir> prepare_data_dir(const LocalCasOptions& options);

}  // namespace sconectl::cas::server
