#include "cltci/models/safetensors.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "common/crc32c.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
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

// The subset of JSON a safetensors header uses: objects, arrays, strings, integers (and, to be
// lenient with metadata writers, true/false/null and non-integral numbers, kept as text).
struct Json {
  enum class Kind { kNull, kBool, kInteger, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  std::int64_t integer = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
};

class JsonParser {
 public:
  JsonParser(std::string_view input, const std::filesystem::path& file)
      : input_(input), file_(file) {}

  Json parse_document() {
    Json value = parse_value(0);
    skip_space();
    if (pos_ != input_.size()) fail("trailing characters after the header's JSON");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw common::InputError(file_.string() + ": malformed safetensors header: " + what +
                             " at byte " + std::to_string(pos_ + 8));
  }

  void skip_space() {
    while (pos_ < input_.size() && (input_[pos_] == ' ' || input_[pos_] == '\n' ||
                                    input_[pos_] == '\r' || input_[pos_] == '\t')) {
      ++pos_;
    }
  }

  char peek() {
    skip_space();
    if (pos_ >= input_.size()) fail("unexpected end");
    return input_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  Json parse_value(int nesting) {
    if (nesting > 64) fail("nested too deeply");
    const char c = peek();
    Json v;
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      ++pos_;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        if (peek() != '"') fail("expected a key");
        std::string key = parse_string();
        expect(':');
        v.members.emplace_back(std::move(key), parse_value(nesting + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.items.push_back(parse_value(nesting + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      v.text = parse_string();
      return v;
    }
    for (const char* word : {"true", "false", "null"}) {
      const size_t n = std::strlen(word);
      if (input_.compare(pos_, n, word) == 0) {
        pos_ += n;
        v.kind = word[0] == 'n' ? Json::Kind::kNull : Json::Kind::kBool;
        v.text = word;
        return v;
      }
    }
    return parse_number();
  }

  Json parse_number() {
    const size_t start = pos_;
    bool integral = true;
    if (pos_ < input_.size() && input_[pos_] == '-') ++pos_;
    while (pos_ < input_.size()) {
      const char c = input_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        integral = false;
        ++pos_;
      } else {
        break;
      }
    }
    const std::string digits(input_.substr(start, pos_ - start));
    if (digits.empty() || digits == "-") fail("unexpected character");
    Json v;
    v.text = digits;
    if (!integral) {
      v.kind = Json::Kind::kNumber;
      return v;
    }
    v.kind = Json::Kind::kInteger;
    try {
      size_t used = 0;
      v.integer = std::stoll(digits, &used);
      if (used != digits.size()) fail("bad number '" + digits + "'");
    } catch (const std::out_of_range&) {
      fail("number out of range '" + digits + "'");
    }
    return v;
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > input_.size()) fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = input_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= input_.size()) fail("unterminated string");
      const char c = input_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= input_.size()) fail("unterminated escape");
      const char e = input_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && input_.compare(pos_, 2, "\\u") == 0) {
            pos_ += 2;
            const unsigned low = parse_hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(std::string("bad escape \\") + e);
      }
    }
  }

  std::string_view input_;
  const std::filesystem::path& file_;
  size_t pos_ = 0;
};

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
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
    header += (first ? "" : ",") + json_quote(key) + ":" + json_quote(value);
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
    header += json_quote(item.key()) + ":{\"dtype\":\"" + dtype + "\",\"shape\":[";
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
  const Json root = JsonParser(header, file).parse_document();
  if (root.kind != Json::Kind::kObject) {
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
  SafetensorsFile result;
  for (const auto& [name, spec] : root.members) {
    if (name == "__metadata__") {
      if (spec.kind != Json::Kind::kObject) {
        throw common::InputError(where + "'__metadata__' is not an object");
      }
      for (const auto& [key, value] : spec.members) {
        if (value.kind != Json::Kind::kString) {
          throw common::InputError(where + "metadata '" + key + "' is not a string");
        }
        result.metadata[key] = value.text;
      }
      continue;
    }
    // Structured bindings cannot be captured before C++20 (clang refuses): bind a reference.
    auto bad = [&, &tensor_name = name](const std::string& what) {
      return common::InputError(where + "tensor '" + tensor_name + "': " + what);
    };
    if (spec.kind != Json::Kind::kObject) throw bad("entry is not an object");
    const Json* dtype = nullptr;
    const Json* shape = nullptr;
    const Json* offsets = nullptr;
    for (const auto& [key, value] : spec.members) {
      if (key == "dtype") dtype = &value;
      if (key == "shape") shape = &value;
      if (key == "data_offsets") offsets = &value;
    }
    if (!dtype || !shape || !offsets) throw bad("needs dtype, shape and data_offsets");
    for (const auto& seen : entries) {
      if (seen.name == name) throw bad("appears twice in the header");
    }
    Entry e;
    e.name = name;
    const auto type =
        dtype->kind == Json::Kind::kString ? dtype_from_name(dtype->text) : std::nullopt;
    if (!type) throw bad("unsupported dtype " + dtype->text);
    e.type = *type;
    if (shape->kind != Json::Kind::kArray) throw bad("shape is not an array");
    std::uint64_t numel = 1;
    for (const auto& d : shape->items) {
      if (d.kind != Json::Kind::kInteger || d.integer < 0) throw bad("bad shape entry");
      e.shape.push_back(d.integer);
      numel *= static_cast<std::uint64_t>(d.integer);
    }
    if (offsets->kind != Json::Kind::kArray || offsets->items.size() != 2 ||
        offsets->items[0].kind != Json::Kind::kInteger ||
        offsets->items[1].kind != Json::Kind::kInteger || offsets->items[0].integer < 0 ||
        offsets->items[1].integer < offsets->items[0].integer) {
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
      throw common::InputError(where + "truncated safetensors file: tensor '" + name +
                               "' ends at data byte " + std::to_string(e.end) + " but only " +
                               std::to_string(data_size) + " data bytes are present");
    }
    entries.push_back(std::move(e));
  }

  // The spec requires the data to be covered exactly: no overlaps, no holes.
  std::vector<const Entry*> by_offset;
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
