#pragma once

// Hand-made `docker save` archives for tests of the content measurement.

#include <nlohmann/json.hpp>

#include <clocale>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

namespace sconectl::testing {

struct TarEntry {
  enum class Type { file, directory, symlink, hardlink } type = Type::file;
  std::string path;
  unsigned mode = 0644;
  std::string content;  // file content, or the link target
};

inline TarEntry file(std::string path, std::string content, unsigned mode = 0644)
{
  return {.type = TarEntry::Type::file,
          .path = std::move(path),
          .mode = mode,
          .content = std::move(content)};
}
inline TarEntry directory(std::string path, unsigned mode = 0755)
{
  return {.type = TarEntry::Type::directory, .path = std::move(path), .mode = mode};
}
inline TarEntry symlink(std::string path, std::string target)
{
  return {.type = TarEntry::Type::symlink,
          .path = std::move(path),
          .mode = 0777,
          .content = std::move(target)};
}

namespace detail {

inline la_ssize_t append_to_string(archive*, void* client, const void* buffer, size_t length)
{
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// libarchive's writer converts names through the locale; write in C.UTF-8 (then restore the
// locale) so that tests can hold UTF-8 names while the reader under test runs in the C locale.
class Utf8Locale {
 public:
  Utf8Locale() : m_previous(std::setlocale(LC_CTYPE, nullptr))
  {
    std::setlocale(LC_CTYPE, "C.UTF-8");
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;
  ~Utf8Locale() { std::setlocale(LC_CTYPE, m_previous.c_str()); }

 private:
  std::string m_previous;
};

inline std::string write_tar(const std::vector<TarEntry>& entries)
{
  const Utf8Locale locale;
  std::string bytes;
  archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  archive_write_set_options(writer, "hdrcharset=UTF-8");
  archive_write_set_bytes_in_last_block(writer, 1);
  archive_write_open(writer, &bytes, nullptr, append_to_string, nullptr);
  for (const auto& item : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname_utf8(entry, item.path.c_str());
    archive_entry_set_perm(entry, item.mode);
    switch (item.type) {
      case TarEntry::Type::file:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(item.content.size()));
        break;
      case TarEntry::Type::directory:
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case TarEntry::Type::symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, item.content.c_str());
        break;
      case TarEntry::Type::hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, item.content.c_str());
        break;
    }
    archive_write_header(writer, entry);
    if (item.type == TarEntry::Type::file) {
      archive_write_data(writer, item.content.data(), item.content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return bytes;
}

}  // namespace detail

// Writes an archive in the legacy `docker save` layout: <n>/layer.tar per layer, manifest.json
// listing them in order (written last, as docker does).
inline void write_saved_image(const std::filesystem::path& path,
                              const std::vector<std::vector<TarEntry>>& layers)
{
  std::vector<TarEntry> outer;
  nlohmann::json layer_names = nlohmann::json::array();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto name = "layer" + std::to_string(i) + "/layer.tar";
    outer.push_back(file(name, detail::write_tar(layers[i])));
    layer_names.push_back(name);
  }
  outer.push_back(
      file("manifest.json",
           nlohmann::json::array(
               {{{"Config", "config.json"}, {"RepoTags", {"test:1"}}, {"Layers", layer_names}}})
               .dump()));
  std::ofstream(path, std::ios::binary) << detail::write_tar(outer);
}

}  // namespace sconectl::testing
