#include "libarchive.hpp"

#include "sconectl/util/shared_library.hpp"

namespace sconectl::image {

namespace {

// The soname of the ABI the headers describe: libarchive 3 is libarchive.so.13.
static_assert(ARCHIVE_VERSION_NUMBER >= 3000000 && ARCHIVE_VERSION_NUMBER < 4000000);
constexpr const char* k_soname = "libarchive.so.13";

Libarchive g_functions{};

Result<const Libarchive*> load()
{
  auto library = util::SharedLibrary::open(k_soname, "to read image archives");
  if (!library) {
    return forward_error(std::move(library.error()));
  }
  Libarchive& f = g_functions;
  const bool bound =
      library->bind(f.entry_filetype, "archive_entry_filetype")
      && library->bind(f.entry_hardlink, "archive_entry_hardlink")
      && library->bind(f.entry_hardlink_utf8, "archive_entry_hardlink_utf8")
      && library->bind(f.entry_pathname, "archive_entry_pathname")
      && library->bind(f.entry_pathname_utf8, "archive_entry_pathname_utf8")
      && library->bind(f.entry_perm, "archive_entry_perm")
      && library->bind(f.entry_size, "archive_entry_size")
      && library->bind(f.entry_symlink, "archive_entry_symlink")
      && library->bind(f.entry_symlink_utf8, "archive_entry_symlink_utf8")
      && library->bind(f.error_string, "archive_error_string")
      && library->bind(f.read_data, "archive_read_data")
      && library->bind(f.read_data_block, "archive_read_data_block")
      && library->bind(f.read_free, "archive_read_free")
      && library->bind(f.read_new, "archive_read_new")
      && library->bind(f.read_next_header, "archive_read_next_header")
      && library->bind(f.read_open, "archive_read_open")
      && library->bind(f.read_open_filename, "archive_read_open_filename")
      && library->bind(f.read_support_filter_all, "archive_read_support_filter_all")
      && library->bind(f.read_support_format_gnutar, "archive_read_support_format_gnutar")
      && library->bind(f.read_support_format_tar, "archive_read_support_format_tar");
  if (!bound) {
    return fail(ErrorKind::io, std::string(k_soname) + " lacks functions sconectl needs");
  }
  return &g_functions;
}

}  // namespace

Result<const Libarchive*> load_libarchive()
{
  static const Result<const Libarchive*> loaded = load();  // thread-safe, once
  return loaded;
}

const Libarchive& libarchive()
{
  return g_functions;
}

}  // namespace sconectl::image
