#include "cltci/models/safetensors.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "cltci/common/json_reader.h"
#include "common/crc32c.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::models {
namespace {

static_assert(sizeof(std::uint64_t) == 8);

// CRC32C of the data section (everything after the header), as 8 lowercase hex digits in the
// metadata: Python's safetensors keeps unknown metadata, and a reader without this key (files
// written before it, or by other tools) skips the check. The header is left out because it
// holds the checksum; a flipped bit there mostly breaks the JSON or the offset checks.
constexpr const char* kChecksumKey = "cltci.crc32c";

std::string hex32(std::uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

bool host_is_little_endian() {
  const std::uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

struct DtypeName {
  torch::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {{torch::kFloat64, "F64"}, {torch::kFloat32, "F32"},
                                 {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
                                 {torch::kInt64, "I64"},   {torch::kInt32, "I32"},
                                 {torch::kInt16, "I16"},   {torch::kInt8, "I8"},
                                 {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"}};

const char* dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  return nullptr;
}

std::optional<torch::ScalarType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  return std::nullopt;
}

/// The pieces of a message, joined: `a + b + c` in a loop makes a temporary string per `+`.
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view part : parts) out += part;
  return out;
}

// Python's safetensors refuses headers over 100 MB (MAX_HEADER_SIZE): a larger length is a
// corrupt file, and refusing it bounds what the JSON reader is given.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

// The header's JSON, with the reader's refusals reworded to name the file and to count bytes
// from the start of the file (the header follows its 8-byte length).
common::JsonValue parse_header(std::string_view header, const std::filesystem::path& file) {
  common::JsonLimits limits;
  limits.max_bytes = kMaxHeaderBytes;
  try {
    return common::read_json(header, limits);
  } catch (const common::JsonError& error) {
    const std::string problem = error.problem() == "trailing characters after the JSON"
                                    ? "trailing characters after the header's JSON"
                                    : error.problem();
    throw common::InputError(file.string() + ": malformed safetensors header: " + problem +
                             " at byte " + std::to_string(error.offset() + 8));
  }
}

}  // namespace

void write_safetensors(const std::filesystem::path& file,
                       const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata) {
  TORCH_CHECK(host_is_little_endian(), "safetensors: big-endian hosts are not supported");
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  std::uint32_t crc = 0;
  for (const auto& item : tensors) {
    data.push_back(item.value().detach().to(torch::kCPU).contiguous());
    crc = common::detail::crc32c(data.back().data_ptr(),
                                 data.back().numel() * data.back().element_size(), crc);
  }
  std::map<std::string, std::string> all_metadata = metadata;
  all_metadata[kChecksumKey] = hex32(crc);
  std::string header = "{\"__metadata__\":{";
  bool first = true;
  for (const auto& [key, value] : all_metadata) {
    header += (first ? "" : ",") + common::json_string(key) + ":" + common::json_string(value);
    first = false;
  }
  header += "}";
  std::uint64_t offset = 0;
  std::size_t index = 0;
  for (const auto& item : tensors) {
    if (item.key() == "__metadata__") {
      throw common::Error("safetensors: '__metadata__' cannot name a tensor");
    }
    const torch::Tensor& t = data[index++];
    const char* dtype = dtype_name(t.scalar_type());
    if (dtype == nullptr) {
      throw common::Error("safetensors: tensor '" + item.key() + "' has unsupported dtype " +
                          std::string(c10::toString(t.scalar_type())));
    }
    const std::uint64_t bytes = t.numel() * t.element_size();
    if (header.size() > 1) header += ",";
    header += common::json_string(item.key()) + R"(:{"dtype":")" + dtype + R"(","shape":[)";
    for (int64_t d = 0; d < t.dim(); ++d) {
      header += (d ? "," : "") + std::to_string(t.size(d));
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  // The spec pads the header with spaces so that the data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string contents;
  contents.reserve(8 + header.size() + offset);
  const std::uint64_t header_size = header.size();
  contents.append(reinterpret_cast<const char*>(&header_size), 8);
  contents += header;
  for (const auto& t : data) {
    contents.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  }
  common::write_file_atomic(file, contents);
}

SafetensorsFile read_safetensors(const std::filesystem::path& file) {
  TORCH_CHECK(host_is_little_endian(), "safetensors: big-endian hosts are not supported");
  const std::string contents = common::read_file(file);
  const std::string where = file.string() + ": ";
  if (contents.size() < 8) {
    throw common::InputError(where + "truncated safetensors file (" +
                             std::to_string(contents.size()) +
                             " bytes, less than the 8-byte header length)");
  }
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, contents.data(), 8);
  if (header_size > contents.size() - 8) {
    throw common::InputError(where + "truncated safetensors file: the header needs " +
                             std::to_string(header_size) + " bytes but only " +
                             std::to_string(contents.size() - 8) + " follow");
  }
  const std::string_view header(contents.data() + 8, header_size);
  using Kind = common::JsonValue::Kind;
  if (header_size > kMaxHeaderBytes) {
    throw common::InputError(where + "safetensors header of " + std::to_string(header_size) +
                             " bytes, more than the format's limit of " +
                             std::to_string(kMaxHeaderBytes) + " (a corrupt length?)");
  }
  const common::JsonValue root = parse_header(header, file);
  if (root.kind != Kind::kObject) {
    throw common::InputError(where + "malformed safetensors header: not a JSON object");
  }
  const std::uint64_t data_size = contents.size() - 8 - header_size;
  const char* data = contents.data() + 8 + header_size;

  struct Entry {
    std::string name;
    torch::ScalarType type;
    std::vector<int64_t> shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  std::set<std::string_view> names;
  SafetensorsFile result;
  for (const auto& [name, spec] : root.members) {
    if (name == "__metadata__") {
      if (spec.kind != Kind::kObject) {
        throw common::InputError(where + "'__metadata__' is not an object");
      }
      for (const auto& [key, value] : spec.members) {
        if (value.kind != Kind::kString) {
          throw common::InputError(joined({where, "metadata '", key, "' is not a string"}));
        }
        result.metadata[key] = value.text;
      }
      continue;
    }
    // Structured bindings cannot be captured before C++20 (clang refuses): bind a reference.
    auto bad = [&, &tensor_name = name](const std::string& what) {
      return common::InputError(joined({where, "tensor '", tensor_name, "': ", what}));
    };
    if (spec.kind != Kind::kObject) throw bad("entry is not an object");
    const common::JsonValue* dtype = spec.find("dtype");
    const common::JsonValue* shape = spec.find("shape");
    const common::JsonValue* offsets = spec.find("data_offsets");
    if (!dtype || !shape || !offsets) throw bad("needs dtype, shape and data_offsets");
    // A set, not a scan of the entries: a header may name a million tensors.
    if (!names.insert(name).second) throw bad("appears twice in the header");
    Entry e;
    e.name = name;
    const auto type = dtype->kind == Kind::kString ? dtype_from_name(dtype->text) : std::nullopt;
    if (!type) throw bad("unsupported dtype " + dtype->text);
    e.type = *type;
    if (shape->kind != Kind::kArray) throw bad("shape is not an array");
    std::uint64_t numel = 1;
    // The product of the non-zero sizes, in bytes, must fit in int64_t as torch computes it:
    // else [2^32, 2^32] wraps to 0 elements, passes the span check and fails in torch::empty.
    std::uint64_t nonzero_bytes = c10::elementSize(e.type);
    for (const auto& d : shape->items) {
      if (d.kind != Kind::kInteger || d.integer < 0) throw bad("bad shape entry");
      e.shape.push_back(d.integer);
      numel *= static_cast<std::uint64_t>(d.integer);
      if (d.integer > 0) {
        if (nonzero_bytes >
            static_cast<std::uint64_t>(INT64_MAX) / static_cast<std::uint64_t>(d.integer)) {
          throw bad("shape is too large");
        }
        nonzero_bytes *= static_cast<std::uint64_t>(d.integer);
      }
    }
    if (offsets->kind != Kind::kArray || offsets->items.size() != 2 ||
        offsets->items[0].kind != Kind::kInteger || offsets->items[1].kind != Kind::kInteger ||
        offsets->items[0].integer < 0 || offsets->items[1].integer < offsets->items[0].integer) {
      throw bad("data_offsets must be [begin, end] with 0 <= begin <= end");
    }
    e.begin = static_cast<std::uint64_t>(offsets->items[0].integer);
    e.end = static_cast<std::uint64_t>(offsets->items[1].integer);
    const std::uint64_t expected = numel * c10::elementSize(e.type);
    if (e.end - e.begin != expected) {
      throw bad("data_offsets span " + std::to_string(e.end - e.begin) + " bytes, its dtype and " +
                "shape need " + std::to_string(expected));
    }
    if (e.end > data_size) {
      throw common::InputError(joined({where, "truncated safetensors file: tensor '", name,
                                       "' ends at data byte ", std::to_string(e.end), " but only ",
                                       std::to_string(data_size), " data bytes are present"}));
    }
    entries.push_back(std::move(e));
  }

  // The spec requires the data to be covered exactly: no overlaps, no holes.
  std::vector<const Entry*> by_offset;
  by_offset.reserve(entries.size());
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != covered) {
      throw common::InputError(where + "tensor '" + e->name + "' starts at data byte " +
                               std::to_string(e->begin) + ", expected " + std::to_string(covered) +
                               (e->begin < covered ? " (overlap)" : " (hole)"));
    }
    covered = e->end;
  }
  if (covered != data_size) {
    throw common::InputError(where + std::to_string(data_size - covered) +
                             " trailing bytes after the last tensor");
  }

  const auto stored = result.metadata.find(kChecksumKey);
  if (stored != result.metadata.end()) {
    if (stored->second != hex32(common::detail::crc32c(data, data_size))) {
      throw common::InputError(where +
                               "checksum mismatch: the file is corrupt; export it again or "
                               "restore it from a backup");
    }
    result.metadata.erase(stored);  // ours, not the writer's metadata
  }

  for (const auto& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
    result.tensors.insert(e.name, t);
  }
  return result;
}

}  // namespace cltci::models
