// libFuzzer target: the bounded JSON reader (common::read_json) under the safetensors header
// and any other JSON the toolkit reads from elsewhere. Besides not crashing, what it accepts
// must stay within its limits, and must read back the same once written out again with the
// toolkit's quoter (common::json_string).
#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "cltci/common/json_reader.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using cltci::common::JsonValue;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "json_reader: %s\n", what);
  std::abort();
}

/// Compact JSON for `value`: strings through json_string, numbers as they were written.
std::string written(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kString:
      return cltci::common::json_string(value.text);
    case JsonValue::Kind::kArray: {
      std::string out = "[";
      for (const auto& item : value.items) out += (out.size() > 1 ? "," : "") + written(item);
      return out + "]";
    }
    case JsonValue::Kind::kObject: {
      std::string out = "{";
      for (const auto& [key, member] : value.members) {
        out +=
            (out.size() > 1 ? "," : "") + cltci::common::json_string(key) + ":" + written(member);
      }
      return out + "}";
    }
    default:
      return value.text;
  }
}

/// json_string writes a byte that is not UTF-8 as the code point of the byte, so only ASCII
/// strings are compared byte for byte.
bool ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

/// The depth and value count `value` has, checked against the limits; and `value` equals
/// `again` (kinds, sizes, integers, ASCII strings and keys).
std::size_t check(const JsonValue& value,
                  const JsonValue& again,
                  int depth,
                  const cltci::common::JsonLimits& limits) {
  if (depth > limits.max_depth) fail("a value deeper than max_depth was accepted");
  if (value.kind != again.kind || value.items.size() != again.items.size() ||
      value.members.size() != again.members.size() || value.integer != again.integer ||
      value.boolean != again.boolean || (ascii(value.text) && value.text != again.text)) {
    fail("the value written out with json_string reads back different");
  }
  std::size_t count = 1;
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    count += check(value.items[i], again.items[i], depth + 1, limits);
  }
  for (std::size_t i = 0; i < value.members.size(); ++i) {
    if (ascii(value.members[i].first) && value.members[i].first != again.members[i].first) {
      fail("a key written out with json_string reads back different");
    }
    count += check(value.members[i].second, again.members[i].second, depth + 1, limits);
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small limits, so that the fuzzer reaches them with inputs of its size.
  cltci::common::JsonLimits limits;
  limits.max_bytes = 32768;
  limits.max_depth = 16;
  limits.max_values = 1000;
  JsonValue value;
  try {
    value = cltci::common::read_json(text, limits);
  } catch (const cltci::common::JsonError& error) {
    if (error.offset() > size) fail("an error offset past the end of the text");
    return 0;
  }
  // A byte that is not UTF-8 comes back as a 6-byte \u00XX escape: only the size may grow.
  const std::string out = written(value);
  cltci::common::JsonLimits again_limits = limits;
  again_limits.max_bytes = out.size();
  JsonValue again;
  try {
    again = cltci::common::read_json(out, again_limits);
  } catch (const cltci::common::JsonError&) {
    fail("the value written out with json_string does not read back");
  }
  if (check(value, again, 0, limits) > limits.max_values) fail("more values than max_values");
  return 0;
}
