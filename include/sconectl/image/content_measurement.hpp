#pragma once

#include "sconectl/model/content_measurement.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>

namespace sconectl::image {

// One entry of an image's file system after all layers are applied.
using ImageFile = model::FileEntry;
// The merged file system of an image: absolute path -> entry.
using ImageFilesystem = model::FileMap;

// Reads the archive that `docker save` writes (the legacy layout with <id>/layer.tar as well as
// the OCI layout with blobs/sha256/<digest>), applies its layers in the order of manifest.json,
// honouring whiteouts, and hashes every regular file. Streams: no layer is extracted to disk.
// The measurement itself is model::measure_content over a model::FileMapView of the result.
[[nodiscard]] Result<ImageFilesystem> read_saved_image(const std::filesystem::path& archive);

}  // namespace sconectl::image
