// NIH ChestX-ray14 (datasets.md §5.1). Both CSV versions: v2020 (integers) and 2017 (zero-padded
// strings, a trailing empty column); the bracketed "OriginalImage[Width,Height]" header names
// contain unquoted commas, so columns are looked up by name and extra fields are ignored. Order
// is `Follow-up #`, never the file-name index (they disagree for 24,106 rows of v2020).
#include "data/importers/importer_support.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

/// A positive finite number, or NaN.
double positive_number(const CsvRecord& record, int column) {
  if (column < 0 || static_cast<std::size_t>(column) >= record.fields.size()) return kUnknown;
  const std::string& text = record.fields[static_cast<std::size_t>(column)];
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const bool whole = !text.empty() && end == text.c_str() + text.size();
  return whole && std::isfinite(value) && value > 0.0 ? value : kUnknown;
}

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
  // The header's unquoted commas split "OriginalImage[Width,Height]" into two column names.
  const int width_col = table.column("OriginalImage[Width");
  const int height_col = table.column("Height]");
  const int spacing_x_col = table.column("OriginalImagePixelSpacing[x");
  const int spacing_y_col = table.column("y]");

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
    // The spacing columns describe the original film; the PNGs were resized from it (to 1024^2),
    // so the PNG's spacing is the original's times original size / PNG size, per axis
    // (datasets.md §5.1: a plain resize is assumed). Unknown when a figure is missing.
    int png_width = 0;
    int png_height = 0;
    const double width = positive_number(record, width_col);
    const double height = positive_number(record, height_col);
    if (png_dimensions(row.path, png_width, png_height)) {
      row.spacing_col_mm = positive_number(record, spacing_x_col) * width / png_width;
      row.spacing_row_mm = positive_number(record, spacing_y_col) * height / png_height;
    }
    if (std::isnan(row.spacing_col_mm) || std::isnan(row.spacing_row_mm)) {
      row.spacing_col_mm = row.spacing_row_mm = kUnknown;
    }
    session.add(std::move(row), {zero_padded(followup, 6), name});
  }
}

}  // namespace cltci::data::importers
