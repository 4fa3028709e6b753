// The glue between a manifest and the cache: one SourceRecord per manifest row.
#pragma once

#include "cltci/data/dataset_cache.h"
#include "cltci/data/manifest.h"

#include <vector>

namespace cltci::data {

/// Records whose identity is every referenced file's path, size and mtime, and whose loader
/// decodes the image (read_image) and its labels: the label map as is, or left / right binary
/// masks (any non-zero value) combined into 1 / 2, with 255 (ignore) where both claim a pixel.
std::vector<SourceRecord> manifest_sources(const Manifest& manifest);

}  // namespace cltci::data
