// A small reader/writer of the safetensors format (huggingface/safetensors), which Python reads
// with `safetensors.torch.load_file` and no pickle: an 8-byte little-endian header length, a
// JSON header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor bytes.
#pragma once

#include "cltci/models/state_dict.h"

#include <filesystem>
#include <map>
#include <string>

namespace cltci::models {

struct SafetensorsFile {
  StateDict tensors;                            ///< in the file's header order
  std::map<std::string, std::string> metadata;  ///< the "__metadata__" entry, if any
};

/// Writes the tensors (moved to CPU, contiguous) atomically. Supported dtypes: F64, F32, F16,
/// BF16, I64, I32, I16, I8, U8, BOOL. Throws common::Error on an unsupported dtype. The metadata
/// gains "cltci.crc32c", the CRC32C of the data section.
void write_safetensors(const std::filesystem::path& file,
                       const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Reads a safetensors file into CPU tensors. A truncated file, a header over the format's 100 MB
/// or malformed (common::read_json's limits; "FILE: malformed safetensors header: ... at byte N",
/// N counted from the start of the file), offsets out of range, overlapping or leaving holes, a
/// shape too large for torch, or an unknown dtype throws common::InputError naming the file, and
/// so does a data section that does not match its "cltci.crc32c" ("FILE: checksum
/// mismatch: ..."; files without the key are read unchecked). That key is not returned in
/// `metadata`.
SafetensorsFile read_safetensors(const std::filesystem::path& file);

}  // namespace cltci::models
