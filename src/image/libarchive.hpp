#pragma once

// Private to image/: libarchive's functions, from the library loaded on first use
// (util::SharedLibrary), so that commands that read no image archive do not load it and the
// libraries it brings (ICU, libxml2, the compressors).

#include "sconectl/util/error.hpp"

#include <archive.h>
#include <archive_entry.h>

namespace sconectl::image {

// Named after the C functions without their "archive_" prefix.
struct Libarchive {
  decltype(&::archive_entry_filetype) entry_filetype;
  decltype(&::archive_entry_hardlink) entry_hardlink;
  decltype(&::archive_entry_hardlink_utf8) entry_hardlink_utf8;
  decltype(&::archive_entry_pathname) entry_pathname;
  decltype(&::archive_entry_pathname_utf8) entry_pathname_utf8;
  decltype(&::archive_entry_perm) entry_perm;
  decltype(&::archive_entry_size) entry_size;
  decltype(&::archive_entry_symlink) entry_symlink;
  decltype(&::archive_entry_symlink_utf8) entry_symlink_utf8;
  decltype(&::archive_error_string) error_string;
  decltype(&::archive_read_data) read_data;
  decltype(&::archive_read_data_block) read_data_block;
  decltype(&::archive_read_free) read_free;
  decltype(&::archive_read_new) read_new;
  decltype(&::archive_read_next_header) read_next_header;
  decltype(&::archive_read_open) read_open;
  decltype(&::archive_read_open_filename) read_open_filename;
  decltype(&::archive_read_support_filter_all) read_support_filter_all;
  decltype(&::archive_read_support_format_gnutar) read_support_format_gnutar;
  decltype(&::archive_read_support_format_tar) read_support_format_tar;
};

// Loads libarchive, once per process.
[[nodiscard]] Result<const Libarchive*> load_libarchive();

// The loaded functions; only after load_libarchive() succeeded.
[[nodiscard]] const Libarchive& libarchive();

}  // namespace sconectl::image
