// Why a path given as a file is not one, in words a message can use: "does not exist" was
// misleading for a directory, a FIFO or a symlink loop.
#pragma once

#include <filesystem>
#include <string>

namespace cltci::common {

/// Empty when `path` is (or links to) a regular file; otherwise what it is instead, phrased to
/// follow the path in a message: "does not exist", "is a directory", "is not a regular file",
/// "cannot be resolved (symlink loop?)" or "cannot be accessed (<reason>)".
std::string not_a_regular_file(const std::filesystem::path& path);

}  // namespace cltci::common
