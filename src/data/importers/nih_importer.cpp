// NIH ChestX-ray14 (datasets.md §5.1). Both CSV versions: v2020 (integers) and 2017 (zero-padded
// strings, a trailing empty column); the bracketed "OriginalImage[Width,Height]" header names
// contain unquoted commas, so columns are looked up by name and extra fields are ignored. Order
// is `Follow-up #`, never the file-name index (they disagree for 24,106 rows of v2020).
#include "data/importers/importer_support.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace cltci::data::importers {
namespace fs = std::filesystem;
namespace {

bool parse_count(const std::string& text, long long& value) {
  if (text.empty() || text.size() > 12 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return false;
  }
  value = std::stoll(text);
  return true;
}

}  // namespace

void import_nih(ImportSession& session) {
  const fs::path& root = session.options().root;
  const fs::path csv =
      find_metadata(session, {root / "Data_Entry_2017_v2020.csv", root / "Data_Entry_2017.csv"});
  if (csv.empty()) return;
  const CsvTable table = read_csv_table(csv);
  const int image_col = table.require("Image Index", session);
  const int followup_col = table.require("Follow-up #", session);
  const int patient_col = table.require("Patient ID", session);
  const int view_col = table.require("View Position", session);
  if (image_col < 0 || followup_col < 0 || patient_col < 0 || view_col < 0) return;
  const auto needed =
      static_cast<std::size_t>(std::max({image_col, followup_col, patient_col, view_col})) + 1;

  // The images ship in images_001..images_012 archives, unpacked in different ways: index
  // every PNG below the root by name.
  std::map<std::string, fs::path> png_by_name;
  for (const fs::path& file : list_files(root)) {
    if (lower(file.extension().string()) == ".png")
      png_by_name.emplace(file.filename().string(), file);
  }
  for (const CsvRecord& record : table.records) {
    const std::string where = table.where(record);
    if (record.fields.size() < needed) {
      session.fatal(csv.string() + ":" + std::to_string(record.line) + ": " +
                    std::to_string(record.fields.size()) + " fields, expected at least " +
                    std::to_string(needed));
      continue;
    }
    const std::string& name = record.fields[static_cast<std::size_t>(image_col)];
    long long followup = 0;
    long long patient = 0;
    if (!parse_count(record.fields[static_cast<std::size_t>(followup_col)], followup) ||
        !parse_count(record.fields[static_cast<std::size_t>(patient_col)], patient)) {
      session.fatal(csv.string() + ":" + std::to_string(record.line) +
                    ": Follow-up # and Patient ID must be non-negative integers");
      continue;
    }
    const std::string view = record.fields[static_cast<std::size_t>(view_col)];
    if (!session.keep_view(view)) continue;
    const auto found = png_by_name.find(name);
    if (found == png_by_name.end()) {
      session.problem(root / name, "image listed in the CSV not found under the root", where);
      continue;
    }
    ManifestRow row;
    row.path = fs::absolute(found->second).lexically_normal();
    row.patient_id = session.patient_id(zero_padded(patient, 8));
    row.view = view;
    session.add(std::move(row), {zero_padded(followup, 6), name});
  }
}

}  // namespace cltci::data::importers
