// Reads `docker save` archives with libarchive: the outer tar holds manifest.json and one tar per
// layer, which is read in place through a nested libarchive reader.

#include "libarchive.hpp"
#include "sconectl/image/content_measurement.hpp"
#include "sconectl/util/digest.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace sconectl::image {

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { libarchive().read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

ArchivePtr new_reader()
{
  ArchivePtr reader(libarchive().read_new());
  libarchive().read_support_format_tar(reader.get());
  libarchive().read_support_format_gnutar(reader.get());
  libarchive().read_support_filter_all(reader.get());
  return reader;
}

// "./usr/bin/x", "usr/bin/x/" -> "/usr/bin/x".
std::string normalise(std::string_view name)
{
  while (name.rfind("./", 0) == 0) {
    name.remove_prefix(2);
  }
  while (!name.empty() && name.back() == '/') {
    name.remove_suffix(1);
  }
  while (!name.empty() && name.front() == '/') {
    name.remove_prefix(1);
  }
  return "/" + std::string(name);
}

// One change a layer makes: add an entry, delete a path, or empty a directory (opaque whiteout).
struct LayerChange {
  enum class Kind { add, remove, make_opaque } kind = Kind::add;
  std::string path;
  ImageFile file;
};

// Lets the nested reader pull the layer's bytes from the outer archive.
struct NestedSource {
  archive* outer;
  std::vector<char> buffer = std::vector<char>(1 << 16);
};

la_ssize_t read_nested(archive*, void* client, const void** data)
{
  auto* source = static_cast<NestedSource*>(client);
  *data = source->buffer.data();
  return libarchive().read_data(source->outer, source->buffer.data(), source->buffer.size());
}

// Image paths are UTF-8 whatever the process locale is; libarchive warns (ARCHIVE_WARN) when it
// cannot convert a name to the locale, which is no reason to stop reading.
bool next_header(archive* reader, archive_entry** entry, int& status)
{
  status = libarchive().read_next_header(reader, entry);
  return status == ARCHIVE_OK || status == ARCHIVE_WARN;
}

std::string utf8_path(const char* utf8, const char* fallback)
{
  if (utf8 != nullptr) {
    return utf8;
  }
  return fallback != nullptr ? fallback : "";
}

std::string hash_entry_data(archive* reader)
{
  Sha256Hasher hasher;
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  while (libarchive().read_data_block(reader, &block, &size, &offset) == ARCHIVE_OK) {
    hasher.update(block, size);
  }
  return to_hex(hasher.finish());
}

// Reads one layer tar; std::nullopt when the bytes are not a tar archive (OCI config blobs).
std::optional<std::vector<LayerChange>> read_layer(archive* outer)
{
  NestedSource source{.outer = outer};
  auto reader = new_reader();
  if (libarchive().read_open(reader.get(), &source, nullptr, read_nested, nullptr) != ARCHIVE_OK) {
    return std::nullopt;
  }
  std::vector<LayerChange> changes;
  std::map<std::string, ImageFile> files_in_layer;
  archive_entry* entry = nullptr;
  int status = ARCHIVE_OK;
  while (next_header(reader.get(), &entry, status)) {
    const auto path = normalise(
        utf8_path(libarchive().entry_pathname_utf8(entry), libarchive().entry_pathname(entry)));
    const auto slash = path.rfind('/');
    const auto base = path.substr(slash + 1);
    const auto parent = path.substr(0, slash);
    if (base == ".wh..wh..opq") {
      changes.push_back(
          {.kind = LayerChange::Kind::make_opaque, .path = parent.empty() ? "/" : parent});
      continue;
    }
    if (base.rfind(".wh.", 0) == 0) {
      changes.push_back({.kind = LayerChange::Kind::remove, .path = parent + "/" + base.substr(4)});
      continue;
    }
    ImageFile file{.mode = static_cast<std::uint32_t>(libarchive().entry_perm(entry))};
    if (libarchive().entry_hardlink(entry) != nullptr) {
      const auto target =
          utf8_path(libarchive().entry_hardlink_utf8(entry), libarchive().entry_hardlink(entry));
      const auto found = files_in_layer.find(normalise(target));
      if (found != files_in_layer.end()) {
        file = found->second;
      }
    } else if (libarchive().entry_filetype(entry) == AE_IFDIR) {
      file.type = ImageFile::Type::directory;
    } else if (libarchive().entry_filetype(entry) == AE_IFLNK) {
      file.type = ImageFile::Type::symlink;
      file.link_target =
          utf8_path(libarchive().entry_symlink_utf8(entry), libarchive().entry_symlink(entry));
    } else if (libarchive().entry_filetype(entry) == AE_IFREG) {
      file.size = static_cast<std::uint64_t>(libarchive().entry_size(entry));
      file.sha256 = hash_entry_data(reader.get());
    } else {
      continue;  // devices and FIFOs carry no content worth measuring
    }
    files_in_layer[path] = file;
    changes.push_back({.kind = LayerChange::Kind::add, .path = path, .file = std::move(file)});
  }
  if (status != ARCHIVE_EOF && changes.empty()) {
    return std::nullopt;
  }
  return changes;
}

void remove_tree(ImageFilesystem& filesystem, const std::string& path, bool keep_root)
{
  const auto prefix = path == "/" ? std::string("/") : path + "/";
  for (auto it = filesystem.lower_bound(prefix);
       it != filesystem.end() && it->first.rfind(prefix, 0) == 0;) {
    it = filesystem.erase(it);
  }
  if (!keep_root) {
    filesystem.erase(path);
  }
}

void apply_layer(ImageFilesystem& filesystem, const std::vector<LayerChange>& changes)
{
  // Whiteouts hide what lower layers had; apply them before this layer's own entries.
  for (const auto& change : changes) {
    if (change.kind == LayerChange::Kind::remove) {
      remove_tree(filesystem, change.path, false);
    } else if (change.kind == LayerChange::Kind::make_opaque) {
      remove_tree(filesystem, change.path, true);
    }
  }
  for (const auto& change : changes) {
    if (change.kind == LayerChange::Kind::add) {
      if (change.file.type != ImageFile::Type::directory) {
        remove_tree(filesystem, change.path, true);
      }
      filesystem[change.path] = change.file;
      // Tars may leave out parent directories; they exist implicitly.
      for (auto slash = change.path.rfind('/'); slash != std::string::npos && slash > 0;
           slash = change.path.rfind('/', slash - 1)) {
        filesystem.emplace(change.path.substr(0, slash),
                           ImageFile{.type = ImageFile::Type::directory, .mode = 0755});
      }
    }
  }
}

}  // namespace

Result<ImageFilesystem> read_saved_image(const std::filesystem::path& path)
{
  TRY(load_libarchive());
  auto reader = new_reader();
  if (libarchive().read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(ErrorKind::io,
                "cannot read image archive " + path.string() + ": "
                    + libarchive().error_string(reader.get()));
  }
  std::map<std::string, std::vector<LayerChange>> layers;
  std::vector<std::string> order;
  bool have_manifest = false;
  archive_entry* entry = nullptr;
  int status = ARCHIVE_OK;
  while (next_header(reader.get(), &entry, status)) {
    if (libarchive().entry_filetype(entry) != AE_IFREG) {
      continue;
    }
    const auto name =
        utf8_path(libarchive().entry_pathname_utf8(entry), libarchive().entry_pathname(entry));
    if (name == "manifest.json") {
      std::string text(static_cast<std::size_t>(libarchive().entry_size(entry)), '\0');
      libarchive().read_data(reader.get(), text.data(), text.size());
      const auto manifest = nlohmann::json::parse(text, nullptr, false);
      if (manifest.is_array() && !manifest.empty() && manifest[0].contains("Layers")
          && manifest[0]["Layers"].is_array()) {
        for (const auto& layer : manifest[0]["Layers"]) {
          if (layer.is_string()) {
            order.push_back(layer.get<std::string>());
          }
        }
        have_manifest = true;
      }
      continue;
    }
    const bool may_be_layer =
        name.size() > 4 && (name.substr(name.size() - 4) == ".tar" || name.rfind("blobs/", 0) == 0);
    if (may_be_layer) {
      if (auto changes = read_layer(reader.get())) {
        layers[name] = std::move(*changes);
      }
    }
  }
  if (status != ARCHIVE_EOF) {
    return fail(ErrorKind::io,
                "cannot read image archive " + path.string() + ": "
                    + libarchive().error_string(reader.get()));
  }
  if (!have_manifest) {
    return fail(ErrorKind::io, "image archive " + path.string() + " has no manifest.json");
  }
  ImageFilesystem filesystem;
  for (const auto& name : order) {
    const auto layer = layers.find(name);
    if (layer == layers.end()) {
      return fail(ErrorKind::io, "image archive " + path.string() + " lacks layer " + name);
    }
    apply_layer(filesystem, layer->second);
  }
  return filesystem;
}

}  // namespace sconectl::image
