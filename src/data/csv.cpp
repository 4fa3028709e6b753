#include "cltci/data/csv.h"

#include "cltci/common/error.h"

#include <utility>

namespace cltci::data {

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord current;
  std::string field;
  bool in_quotes = false;
  bool field_started = false;  // distinguishes an empty trailing field from an empty line
  std::int64_t line = 1;
  current.line = 1;

  const auto end_record = [&] {
    if (field_started || !current.fields.empty()) {
      current.fields.push_back(std::move(field));
      records.push_back(std::move(current));
    }
    current = CsvRecord{};
    field.clear();
    field_started = false;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quotes = true;
        field_started = true;
        break;
      case ',':
        current.fields.push_back(std::move(field));
        field.clear();
        field_started = true;
        break;
      case '\r':
        break;
      case '\n':
        end_record();
        ++line;
        current.line = line;
        break;
      default:
        if (!field_started && current.fields.empty()) current.line = line;
        field += c;
        field_started = true;
    }
  }
  if (in_quotes) {
    throw common::InputError(source + ":" + std::to_string(current.line) + ": unterminated quote");
  }
  end_record();
  return records;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace cltci::data
