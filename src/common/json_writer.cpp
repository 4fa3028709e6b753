#include "cltci/common/json_writer.h"

#include "cltci/common/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace cltci::common {

namespace {

std::string printed(const char* format, int digits, double value) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, format, digits, value);
  return buffer;
}

}  // namespace

std::string json_number(double value, JsonNumber format) {
  if (!std::isfinite(value)) return "null";
  switch (format.kind) {
    case JsonNumber::Kind::kSignificant:
      return printed("%.*g", format.digits, value);
    case JsonNumber::Kind::kFixed: {
      std::string text = printed("%.*f", format.digits, value);
      if (format.trim_zeros && text.find('.') != std::string::npos) {
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text.pop_back();
      }
      return text;
    }
    case JsonNumber::Kind::kRoundTrip:
      break;
  }
  // 17 significant digits always round-trip; fewer often do and read better (0.1, not
  // 0.10000000000000001).
  for (int digits = 1; digits < 17; ++digits) {
    std::string text = printed("%.*g", digits, value);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return printed("%.*g", 17, value);
}

void JsonWriter::before_value() {
  if (done_) throw std::logic_error("JsonWriter: a second value after the document's end");
  if (levels_.empty()) return;
  Level& level = levels_.back();
  if (level.object) {
    if (!level.has_key) throw std::logic_error("JsonWriter: a value in an object without a key");
    level.has_key = false;
    return;
  }
  if (!level.empty) out_ += level.inline_layout ? ", " : ",";
  if (!level.inline_layout) out_ += "\n" + std::string(2 * levels_.size(), ' ');
  level.empty = false;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  if (levels_.empty() || !levels_.back().object) {
    throw std::logic_error("JsonWriter: key '" + std::string(name) + "' outside an object");
  }
  Level& level = levels_.back();
  if (level.has_key) {
    throw std::logic_error("JsonWriter: key '" + std::string(name) + "' after a key");
  }
  if (!level.empty) out_ += level.inline_layout ? ", " : ",";
  if (!level.inline_layout) out_ += "\n" + std::string(2 * levels_.size(), ' ');
  out_ += json_string(name) + ": ";
  level.empty = false;
  level.has_key = true;
  return *this;
}

void JsonWriter::open(bool object, Layout layout) {
  before_value();
  out_ += object ? '{' : '[';
  // Inside an inline container everything stays on its line.
  const bool inline_layout =
      layout == Layout::kInline || (!levels_.empty() && levels_.back().inline_layout);
  levels_.push_back({object, inline_layout});
}

void JsonWriter::close(bool object) {
  const char* what = object ? "end_object" : "end_array";
  if (levels_.empty() || levels_.back().object != object) {
    throw std::logic_error(std::string("JsonWriter: ") + what + " without its begin");
  }
  const Level level = levels_.back();
  if (level.has_key) throw std::logic_error(std::string("JsonWriter: ") + what + " after a key");
  levels_.pop_back();
  if (!level.inline_layout && !level.empty) out_ += "\n" + std::string(2 * levels_.size(), ' ');
  out_ += object ? '}' : ']';
  if (levels_.empty()) done_ = true;
}

JsonWriter& JsonWriter::begin_object(Layout layout) {
  open(true, layout);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  close(true);
  return *this;
}
JsonWriter& JsonWriter::begin_array(Layout layout) {
  open(false, layout);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  close(false);
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  if (levels_.empty()) done_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) { return raw(json_string(text)); }
JsonWriter& JsonWriter::value(bool flag) { return raw(flag ? "true" : "false"); }
JsonWriter& JsonWriter::value(long long number) { return raw(std::to_string(number)); }
JsonWriter& JsonWriter::value(unsigned long long number) { return raw(std::to_string(number)); }
JsonWriter& JsonWriter::value(double number, JsonNumber format) {
  return raw(json_number(number, format));
}
JsonWriter& JsonWriter::null() { return raw("null"); }

std::string JsonWriter::text() const {
  if (!done_) throw std::logic_error("JsonWriter: text() before the document is complete");
  return out_ + "\n";
}

}  // namespace cltci::common
