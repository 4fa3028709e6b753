// Writes that never leave a half-written file behind: write to a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory. A crash or SIGKILL at any
// moment leaves either the old file or the new one.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace cltci::common {

/// Atomically replaces `path` with `contents`. Creates missing parent directories.
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

/// Atomically replaces `path` with whatever `writer` puts into the temporary path it is given
/// (for writers that want a file name, such as torch::save). Throws common::Error on failure and
/// removes the temporary file.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(const std::filesystem::path& temporary)>& writer);

/// Reads a whole file; throws common::InputError naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace cltci::common
