// RFC 4180 CSV as the manifest and the public data sets' metadata files use it: comma separated,
// fields optionally quoted with "" as an escaped quote, quoted fields may span lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::data {

struct CsvRecord {
  std::vector<std::string> fields;
  std::int64_t line = 0;  ///< 1-based line where the record starts (quoted newlines move it on)
};

/// Splits `text` into records. Blank lines are dropped, a UTF-8 byte-order mark and CR-LF line
/// ends are accepted. An unterminated quote is reported as "<source>:<line>: unterminated quote"
/// through common::InputError.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source);

/// Quotes a field when it holds a comma, a quote or a line break.
std::string csv_field(std::string_view value);

}  // namespace cltci::data
