// A streaming JSON writer for the files the toolkit writes (summary.json, splits.json): one place
// that quotes, separates and indents, so no writer assembles JSON by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::common {

/// How a double is written; non-finite values are always written as null.
struct JsonNumber {
  enum class Kind { kRoundTrip, kSignificant, kFixed };
  Kind kind = Kind::kRoundTrip;
  int digits = 17;
  bool trim_zeros = false;  ///< kFixed only: 7.000000 -> 7, 0.400000 -> 0.4

  /// The shortest text that reads back as the same double.
  static JsonNumber round_trip() { return {}; }
  /// printf's %.<digits>g (std::ostream's default format at that precision).
  static JsonNumber significant(int digits) { return {Kind::kSignificant, digits, false}; }
  /// printf's %.<decimals>f.
  static JsonNumber fixed(int decimals) { return {Kind::kFixed, decimals, false}; }
  /// printf's %.<decimals>f without trailing zeros (and without a bare decimal point).
  static JsonNumber fixed_trimmed(int decimals) { return {Kind::kFixed, decimals, true}; }
};

/// `value` as JSON text in `format`: "null" when it is NaN or infinite.
std::string json_number(double value, JsonNumber format = JsonNumber::round_trip());

/// Writes one JSON document. A block container puts each member on its own line, indented two
/// spaces a level; an inline one (and everything inside it) stays on one line, `{"a": 1, "b": 2}`,
/// which keeps a summary's cells one line each for people and line-oriented tools. Misuse (a
/// value without a key in an object, a key in an array, an unbalanced end, text() before the
/// document is complete) throws std::logic_error: it is a bug in the caller, never bad input.
class JsonWriter {
 public:
  enum class Layout { kBlock, kInline };

  JsonWriter& begin_object(Layout layout = Layout::kBlock);
  JsonWriter& end_object();
  JsonWriter& begin_array(Layout layout = Layout::kBlock);
  JsonWriter& end_array();

  /// The next member's key; only inside an object, and only before its value.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(int number) { return value(static_cast<long long>(number)); }
  JsonWriter& value(long number) { return value(static_cast<long long>(number)); }
  JsonWriter& value(long long number);
  JsonWriter& value(unsigned number) { return value(static_cast<unsigned long long>(number)); }
  JsonWriter& value(unsigned long number) { return value(static_cast<unsigned long long>(number)); }
  JsonWriter& value(unsigned long long number);
  JsonWriter& value(double number, JsonNumber format = JsonNumber::round_trip());
  JsonWriter& null();
  /// A value already formatted as JSON (a number from a formatter of its own); written as is.
  JsonWriter& raw(std::string_view json);

  /// `key(name).value(v)` in one call.
  template <typename T>
  JsonWriter& member(std::string_view name, const T& v) {
    return key(name).value(v);
  }
  JsonWriter& member(std::string_view name, double v, JsonNumber format) {
    return key(name).value(v, format);
  }

  /// The document, ending in a newline; throws std::logic_error while a container is open.
  std::string text() const;

 private:
  struct Level {
    bool object;
    bool inline_layout;
    bool empty = true;
    bool has_key = false;
  };
  void before_value();
  void open(bool object, Layout layout);
  void close(bool object);

  std::string out_;
  std::vector<Level> levels_;
  bool done_ = false;
};

}  // namespace cltci::common
