// libFuzzer target: manifest CSVs (data::load_manifest, what every `--set
// data.source.path=...` goes through) and the RFC 4180 splitter under it (data::parse_csv),
// which the importers also use on the public data sets' metadata files.
#include "cltci/common/error.h"
#include "cltci/data/csv.h"
#include "cltci/data/manifest.h"
#include "fuzz_input_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

// csv_field is how save_manifest writes fields; parsing what it wrote must give the fields back.
void check_round_trip(const cltci::data::CsvRecord& record) {
  if (record.fields.size() == 1 && record.fields[0].empty()) return;  // written as a blank line
  // A leading byte-order mark is dropped once per text, so a field starting with one cannot
  // survive a re-parse at the start of a text; that is the BOM rule, not a quoting bug.
  if (record.fields[0].rfind("\xEF\xBB\xBF", 0) == 0) return;
  std::string line;
  for (std::size_t i = 0; i < record.fields.size(); ++i) {
    line += (i ? "," : "") + cltci::data::csv_field(record.fields[i]);
  }
  const std::vector<cltci::data::CsvRecord> again = cltci::data::parse_csv(line, "round-trip");
  if (again.size() != 1 || again[0].fields != record.fields) {
    std::fprintf(stderr, "csv: record of line %lld does not survive csv_field + parse_csv\n",
                 static_cast<long long>(record.line));
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    std::int64_t previous_line = 0;
    for (const auto& record : cltci::data::parse_csv(text, "fuzz.csv")) {
      if (record.line <= previous_line || record.fields.empty()) {
        std::fprintf(stderr, "csv: record lines must increase (line %lld after %lld)\n",
                     static_cast<long long>(record.line), static_cast<long long>(previous_line));
        std::abort();
      }
      previous_line = record.line;
      check_round_trip(record);
    }
  } catch (const cltci::common::InputError&) {
  }
  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".csv");
  try {
    // No file checks: the fuzzer's paths name nothing, and stat() on them tells us nothing.
    cltci::data::ManifestCheck check;
    check.files_exist = false;
    cltci::data::load_manifest(file, check);
  } catch (const cltci::common::InputError&) {
  }
  return 0;
}
