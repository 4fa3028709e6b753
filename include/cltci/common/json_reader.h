// A bounded JSON reader for the JSON the toolkit reads from files it did not write (a
// safetensors header from any tool): there is no JSON library among its dependencies, and
// yaml-cpp, which reads the toolkit's own JSON back, accepts more than JSON and has no limits.
// The text is untrusted, so nesting, size and the number of values are capped, and every
// refusal names the byte where it was found.
#pragma once

#include "cltci/common/error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::common {

/// One JSON value. Containers own their children; an object keeps its members in the text's
/// order, duplicates included (find() picks the last, as most readers do).
struct JsonValue {
  enum class Kind { kNull, kBool, kInteger, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;      ///< kBool
  std::int64_t integer = 0;  ///< kInteger: a number without fraction or exponent
  /// kString: the decoded string (UTF-8). kInteger and kNumber: the number as written (a
  /// fraction or exponent makes a kNumber, converted by whoever needs it). kBool and kNull:
  /// "true", "false" or "null".
  std::string text;
  std::vector<JsonValue> items;                            ///< kArray
  std::vector<std::pair<std::string, JsonValue>> members;  ///< kObject

  /// The value of the last member named `key`, or nullptr (also when this is not an object).
  const JsonValue* find(std::string_view key) const;
};

/// The bounds a text must stay within. The defaults suit a file header; a reader of larger
/// documents raises them knowingly.
struct JsonLimits {
  std::size_t max_bytes = std::size_t{64} << 20;
  /// Containers around a value: `[[1]]` puts the 1 at depth 2. It also bounds the reader's
  /// recursion, so that a text of brackets cannot exhaust the stack.
  int max_depth = 64;
  /// Values in the document, containers included: each costs ~100 bytes in memory, so this
  /// caps the memory a short text of `[[],[],...]` can claim.
  std::size_t max_values = std::size_t{1} << 20;
};

/// Malformed JSON or a text over its limits: bad input (exit code 2). what() is
/// "<problem> at byte <offset>"; a reader of a file rewords it with problem() and offset(),
/// which counts from the start of the text it was given.
class JsonError : public InputError {
 public:
  JsonError(std::string problem, std::size_t offset);
  const std::string& problem() const noexcept { return problem_; }
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::string problem_;
  std::size_t offset_;
};

/// Reads one JSON document (RFC 8259; whitespace around it allowed, nothing else after it).
/// Strings are decoded: escapes (\uXXXX with surrogate pairs) become UTF-8; other bytes,
/// including ones that are not UTF-8, are kept as they are. Integers must fit in int64_t.
/// Throws JsonError on malformed text, on a raw control character or an unpaired surrogate in
/// a string, and when the text passes one of `limits`.
JsonValue read_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace cltci::common
