// The toolkit's readers take file names, as the executables get them, so each fuzz input is
// written to a scratch file first and the reader is given its path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace cltci::fuzz {

/// Writes `size` bytes to `<tmp>/cltci-fuzz-<pid>/input<extension>` (the extension steers
/// format detection, e.g. ".img", ".dcm") and returns the path. The file is rewritten on every
/// call; the directory is one per process, so parallel fuzzers (-jobs/-workers) do not collide,
/// and it is removed at exit.
std::filesystem::path write_fuzz_input(const std::uint8_t* data,
                                       std::size_t size,
                                       const std::string& extension);

}  // namespace cltci::fuzz
