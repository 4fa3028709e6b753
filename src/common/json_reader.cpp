#include "cltci/common/json_reader.h"

#include <charconv>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::common {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// A recursive-descent reader over the whole text. Every failure names the byte it stopped at;
/// the recursion is bounded by JsonLimits::max_depth, checked before each value.
class Reader {
 public:
  Reader(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  JsonValue document() {
    if (text_.size() > limits_.max_bytes) {
      fail("text of " + std::to_string(text_.size()) + " bytes is longer than the limit of " +
               std::to_string(limits_.max_bytes),
           limits_.max_bytes);
    }
    JsonValue value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters after the JSON", pos_);
    return value;
  }

 private:
  [[noreturn]] static void fail(std::string problem, std::size_t offset) {
    throw JsonError(std::move(problem), offset);
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end", pos_);
    return text_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'", pos_);
    ++pos_;
  }

  JsonValue parse_value(int depth) {
    const char c = peek();
    if (depth > limits_.max_depth) fail("nested too deeply", pos_);
    if (++values_ > limits_.max_values) {
      fail("more than " + std::to_string(limits_.max_values) + " values", pos_);
    }
    JsonValue v;
    if (c == '{') {
      v.kind = JsonValue::Kind::kObject;
      ++pos_;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        if (peek() != '"') fail("expected a key", pos_);
        std::string key = parse_string();
        expect(':');
        v.members.emplace_back(std::move(key), parse_value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = JsonValue::Kind::kArray;
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.items.push_back(parse_value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      v.text = parse_string();
      return v;
    }
    for (const char* word : {"true", "false", "null"}) {
      const std::size_t n = std::strlen(word);
      if (text_.compare(pos_, n, word) == 0) {
        pos_ += n;
        v.kind = word[0] == 'n' ? JsonValue::Kind::kNull : JsonValue::Kind::kBool;
        v.boolean = word[0] == 't';
        v.text = word;
        return v;
      }
    }
    return parse_number();
  }

  /// The number's characters, shortened for a message: a text of a million digits must not
  /// make a million-byte error line.
  static std::string quoted_token(std::string_view token) {
    constexpr std::size_t shown = 40;
    if (token.size() <= shown) return "'" + std::string(token) + "'";
    return "'" + std::string(token.substr(0, shown)) + "...' (" + std::to_string(token.size()) +
           " characters)";
  }

  JsonValue parse_number() {
    const std::size_t start = pos_;
    if (text_[pos_] != '-' && !is_digit(text_[pos_])) fail("unexpected character", pos_);
    // The token is everything a number could be made of, so that "1.2.3" is reported whole
    // rather than as a number followed by trailing characters.
    std::size_t end = pos_;
    while (end < text_.size() && (is_digit(text_[end]) || text_[end] == '.' || text_[end] == 'e' ||
                                  text_[end] == 'E' || text_[end] == '+' || text_[end] == '-')) {
      ++end;
    }
    const std::string_view token = text_.substr(start, end - start);
    // RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, all of the token.
    std::size_t i = 0;
    const auto digits = [&] {
      const std::size_t first = i;
      while (i < token.size() && is_digit(token[i])) ++i;
      return i - first;
    };
    bool integral = true;
    bool ok = true;
    if (token[i] == '-') ++i;
    const std::size_t int_start = i;
    const std::size_t int_digits = digits();
    ok = int_digits > 0 && (token[int_start] != '0' || int_digits == 1);
    if (ok && i < token.size() && token[i] == '.') {
      integral = false;
      ++i;
      ok = digits() > 0;
    }
    if (ok && i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
      integral = false;
      ++i;
      if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
      ok = digits() > 0;
    }
    if (!ok || i != token.size()) fail("bad number " + quoted_token(token), start);
    pos_ = end;
    JsonValue v;
    v.text = std::string(token);
    if (!integral) {
      v.kind = JsonValue::Kind::kNumber;
      return v;
    }
    v.kind = JsonValue::Kind::kInteger;
    const auto [stop, error] =
        std::from_chars(token.data(), token.data() + token.size(), v.integer);
    if (error != std::errc() || stop != token.data() + token.size()) {
      fail("number out of range " + quoted_token(token), start);
    }
    return v;
  }

  /// The 4 hex digits at pos_; `escape` is where their \u starts, for the message.
  unsigned parse_hex4(std::size_t escape) {
    if (pos_ + 4 > text_.size()) fail("short \\u escape", escape);
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad \\u escape", escape);
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

  /// A \uXXXX escape whose backslash is at `escape` (pos_ is past the u), with the low half
  /// of a surrogate pair when it is the high half. A lone half has no UTF-8 form: refused.
  unsigned parse_unicode_escape(std::size_t escape) {
    unsigned cp = parse_hex4(escape);
    if (cp >= 0xDC00 && cp < 0xE000) fail("unpaired surrogate in \\u escape", escape);
    if (cp >= 0xD800 && cp < 0xDC00) {
      if (text_.compare(pos_, 2, "\\u") != 0) fail("unpaired surrogate in \\u escape", escape);
      const std::size_t low_escape = pos_;
      pos_ += 2;
      const unsigned low = parse_hex4(low_escape);
      if (low < 0xDC00 || low >= 0xE000) fail("unpaired surrogate in \\u escape", escape);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string", pos_);
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string", pos_);
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t escape = pos_;
      pos_ += 2;
      if (pos_ > text_.size()) fail("unterminated escape", text_.size());
      const char e = text_[escape + 1];
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
        case 'u':
          append_utf8(out, parse_unicode_escape(escape));
          break;
        default:
          // A byte that cannot be shown (a newline, say) is named, to keep the message one line.
          if (e > ' ' && e < 0x7F) fail(std::string("bad escape \\") + e, escape);
          fail("bad escape: \\ followed by byte " +
                   std::to_string(static_cast<unsigned>(static_cast<unsigned char>(e))),
               escape);
      }
    }
  }

  std::string_view text_;
  const JsonLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

JsonError::JsonError(std::string problem, std::size_t offset)
    : InputError(problem + " at byte " + std::to_string(offset)),
      problem_(std::move(problem)),
      offset_(offset) {}

JsonValue read_json(std::string_view text, const JsonLimits& limits) {
  return Reader(text, limits).document();
}

}  // namespace cltci::common
