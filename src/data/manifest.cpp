#include "cltci/data/manifest.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/file_check.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_io.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace cltci::data {
namespace fs = std::filesystem;

namespace {

enum Column {
  kPath,
  kPatient,
  kOrder,
  kTime,
  kView,
  kMask,
  kLeft,
  kRight,
  kSplit,
  kStudy,
  kSpacingRow,
  kSpacingCol,
  kCount
};

const char* const kColumnNames[kCount] = {
    "path",      "patient_id", "order", "time",  "view",           "mask",
    "left_mask", "right_mask", "split", "study", "spacing_row_mm", "spacing_col_mm"};

/// A pixel spacing cell: empty (unknown) or a finite number of millimetres > 0.
bool parse_spacing(const std::string& text, double& value) {
  if (text.empty()) return true;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value) && value > 0.0;
}

std::string spacing_text(double value) {
  if (std::isnan(value)) return "";
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

std::string location(const Manifest& manifest, const ManifestRow& row, std::size_t index) {
  // Rows built in memory (importers) report the line save_manifest will give them.
  const std::int64_t line = row.line > 0 ? row.line : static_cast<std::int64_t>(index) + 2;
  return manifest.file.string() + ":" + std::to_string(line) + ": ";
}

// Paths in messages as the user wrote them: relative to the manifest when inside its folder.
std::string shown(const Manifest& manifest, const fs::path& path) {
  const fs::path base = manifest.file.parent_path();
  if (!base.empty() && path.is_absolute()) {
    const fs::path relative = path.lexically_relative(fs::absolute(base));
    if (!relative.empty() && *relative.begin() != "..")
      return "'" + relative.generic_string() + "'";
  }
  return "'" + path.generic_string() + "'";
}

// YYYY-MM-DD[Thh:mm[:ss[.f...]]]: the manifest's time is ISO 8601 so that text order is time
// order, which is all the samplers need.
bool is_iso_datetime(const std::string& t) {
  const auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > t.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    }
    return true;
  };
  if (!(digits(0, 4) && t.size() >= 10 && t[4] == '-' && digits(5, 2) && t[7] == '-' &&
        digits(8, 2))) {
    return false;
  }
  if (t.size() == 10) return true;
  if (!(t[10] == 'T' && digits(11, 2) && t.size() >= 16 && t[13] == ':' && digits(14, 2))) {
    return false;
  }
  if (t.size() == 16) return true;
  if (!(t[16] == ':' && digits(17, 2))) return false;
  if (t.size() == 19) return true;
  return t[19] == '.' && t.size() > 20 && digits(20, t.size() - 20);
}

std::string split_name(const std::string& split) { return split.empty() ? "(none)" : split; }

void check_mask_file(const Manifest& manifest,
                     const ManifestRow& row,
                     const std::string& where,
                     std::vector<std::string>& problems) {
  cv::Size image_size;
  try {
    image_size = read_image_size(row.path);
  } catch (const common::InputError& e) {
    problems.push_back(where + "image " + shown(manifest, row.path) + ": " + e.what());
    return;
  }
  const auto check_aspect = [&](const fs::path& mask_path, const cv::Mat& mask) {
    const double image_ratio = static_cast<double>(image_size.width) / image_size.height;
    const double mask_ratio = static_cast<double>(mask.cols) / mask.rows;
    // datasets.md §8: 1 % covers rounding when a mask was stored at a reduced resolution.
    if (std::abs(mask_ratio / image_ratio - 1.0) > 0.01) {
      problems.push_back(where + "mask " + shown(manifest, mask_path) + " is " +
                         std::to_string(mask.cols) + "x" + std::to_string(mask.rows) +
                         " but image " + shown(manifest, row.path) + " is " +
                         std::to_string(image_size.width) + "x" +
                         std::to_string(image_size.height) + " (aspect ratios differ)");
    }
  };
  const auto load = [&](const fs::path& mask_path) -> cv::Mat {
    try {
      return read_mask(mask_path);
    } catch (const common::InputError& e) {
      problems.push_back(where + "mask " + shown(manifest, mask_path) + ": " + e.what());
      return {};
    }
  };
  if (!row.mask.empty()) {
    const cv::Mat mask = load(row.mask);
    if (mask.empty()) return;
    int histogram[256] = {};
    for (int y = 0; y < mask.rows; ++y) {
      const auto* p = mask.ptr<unsigned char>(y);
      for (int x = 0; x < mask.cols; ++x) ++histogram[p[x]];
    }
    std::string bad;
    for (int v = 0; v < 256; ++v) {
      if (histogram[v] == 0 || v == 0 || v == 1 || v == 2 || v == 255) continue;
      bad += (bad.empty() ? "" : ", ") + std::to_string(v);
    }
    if (!bad.empty()) {
      const bool several = bad.find(',') != std::string::npos;
      problems.push_back(where + "mask " + shown(manifest, row.mask) + " has value" +
                         (several ? "s " : " ") + bad + " (allowed: 0, 1, 2, 255)");
    }
    check_aspect(row.mask, mask);
  } else if (!row.left_mask.empty() && !row.right_mask.empty()) {
    const cv::Mat left = load(row.left_mask);
    const cv::Mat right = load(row.right_mask);
    if (left.empty() || right.empty()) return;
    if (left.size() != right.size()) {
      problems.push_back(where + "left_mask " + shown(manifest, row.left_mask) +
                         " and right_mask " + shown(manifest, row.right_mask) + " differ in size");
    }
    check_aspect(row.left_mask, left);
  }
}

}  // namespace

const std::vector<std::string>& manifest_columns() {
  static const std::vector<std::string> names(std::begin(kColumnNames), std::end(kColumnNames));
  return names;
}

std::vector<std::string> validate_manifest(const Manifest& manifest, const ManifestCheck& check) {
  std::vector<std::string> problems;
  std::unordered_map<std::string, std::size_t> first_row_of_path;
  std::unordered_map<std::string, std::size_t> split_row_of_patient;
  std::map<std::string, std::vector<std::size_t>> rows_of_patient;
  const auto line_of = [&](std::size_t i) {
    const ManifestRow& row = manifest.rows[i];
    return row.line > 0 ? row.line : static_cast<std::int64_t>(i) + 2;
  };

  for (std::size_t i = 0; i < manifest.rows.size(); ++i) {
    const ManifestRow& row = manifest.rows[i];
    const std::string where = location(manifest, row, i);
    if (row.path.empty()) problems.push_back(where + "empty path");
    if (row.patient_id.empty()) problems.push_back(where + "empty patient_id");
    if (row.order < 0) problems.push_back(where + "negative order " + std::to_string(row.order));
    if (!row.time.empty() && !is_iso_datetime(row.time)) {
      problems.push_back(where + "time '" + row.time + "' is not ISO 8601 (YYYY-MM-DDThh:mm:ss)");
    }
    if (row.left_mask.empty() != row.right_mask.empty()) {
      problems.push_back(where + (row.left_mask.empty() ? "right_mask without left_mask"
                                                        : "left_mask without right_mask"));
    }
    if (!row.path.empty()) {
      const auto [it, inserted] =
          first_row_of_path.emplace(row.path.lexically_normal().string(), i);
      if (!inserted) {
        problems.push_back(where + "image " + shown(manifest, row.path) +
                           " already listed on line " + std::to_string(line_of(it->second)));
      }
    }
    if (!row.patient_id.empty()) {
      const auto [it, inserted] = split_row_of_patient.emplace(row.patient_id, i);
      const ManifestRow& first = manifest.rows[it->second];
      if (!inserted && first.split != row.split) {
        problems.push_back(where + "patient '" + row.patient_id + "' is in split '" +
                           split_name(row.split) + "' but in split '" + split_name(first.split) +
                           "' on line " + std::to_string(line_of(it->second)));
      }
      rows_of_patient[row.patient_id].push_back(i);
    }
    bool files_present = true;
    if (check.files_exist) {
      const std::pair<const char*, const fs::path*> files[] = {{"image", &row.path},
                                                               {"mask", &row.mask},
                                                               {"left_mask", &row.left_mask},
                                                               {"right_mask", &row.right_mask}};
      for (const auto& [what, file] : files) {
        if (file->empty()) continue;
        std::string why = common::not_a_regular_file(*file);
        // A zero-byte file (an interrupted copy or download) is there but holds no image:
        // found now, not by the cache build hours into a run.
        std::error_code size_error;
        if (why.empty() && fs::file_size(*file, size_error) == 0 && !size_error) {
          why = "is empty (0 bytes)";
        }
        if (!why.empty()) {
          problems.push_back(where + what + " " + shown(manifest, *file) + " " + why);
          files_present = false;
        }
      }
    }
    if (check.mask_values && files_present && row.has_labels()) {
      check_mask_file(manifest, row, where, problems);
    }
  }

  // A later acquisition must not carry an earlier time: catches an order column built from
  // file names (datasets.md §5.1) when the dates say otherwise.
  for (const auto& [patient, indices] : rows_of_patient) {
    std::vector<std::size_t> timed;
    for (const std::size_t i : indices) {
      if (!manifest.rows[i].time.empty()) timed.push_back(i);
    }
    std::stable_sort(timed.begin(), timed.end(), [&](std::size_t a, std::size_t b) {
      return manifest.rows[a].order < manifest.rows[b].order;
    });
    for (std::size_t k = 1; k < timed.size(); ++k) {
      const ManifestRow& earlier = manifest.rows[timed[k - 1]];
      const ManifestRow& later = manifest.rows[timed[k]];
      if (later.order > earlier.order && later.time < earlier.time) {
        problems.push_back(location(manifest, later, timed[k]) + "patient '" + patient +
                           "': order " + std::to_string(later.order) + " has time " + later.time +
                           ", earlier than order " + std::to_string(earlier.order) + " (" +
                           earlier.time + ") on line " + std::to_string(line_of(timed[k - 1])));
      }
    }
  }
  return problems;
}

Manifest load_manifest(const fs::path& file, const ManifestCheck& check) {
  const std::string name = file.string();
  const std::string text = common::read_file(file);
  const std::vector<CsvRecord> records = parse_csv(text, name);
  if (records.empty()) {
    throw common::InputError(name + ":1: empty manifest (a header line with at least " +
                             "path,patient_id is required)");
  }
  std::vector<std::string> problems;
  int column_of[kCount];
  std::fill(std::begin(column_of), std::end(column_of), -1);
  const std::vector<std::string>& header = records.front().fields;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string& column = header[c];
    const auto* known = std::find(std::begin(kColumnNames), std::end(kColumnNames), column);
    if (known == std::end(kColumnNames)) {
      std::string list;
      for (const char* n : kColumnNames) list += (list.empty() ? "" : ", ") + std::string(n);
      problems.push_back(name + ":" + std::to_string(records.front().line) + ": unknown column '" +
                         column + "' (known: " + list + ")");
      continue;
    }
    const auto index = known - std::begin(kColumnNames);
    if (column_of[index] >= 0) {
      problems.push_back(name + ":" + std::to_string(records.front().line) + ": column '" + column +
                         "' appears twice");
    }
    column_of[index] = static_cast<int>(c);
  }
  for (const Column required : {kPath, kPatient}) {
    if (column_of[required] < 0) {
      problems.push_back(name + ":" + std::to_string(records.front().line) +
                         ": header lacks the required column '" + kColumnNames[required] + "'");
    }
  }
  if (!problems.empty()) throw common::InputError(problems);

  Manifest manifest;
  manifest.file = file;
  const fs::path base = fs::absolute(file).parent_path();
  const auto resolve = [&](const std::string& value) -> fs::path {
    if (value.empty()) return {};
    const fs::path path(value);
    return (path.is_absolute() ? path : base / path).lexically_normal();
  };
  // Patients whose rows all leave `order` empty are ordered by `time` (datasets.md §8).
  std::map<std::string, std::vector<std::size_t>> unordered_rows;
  std::set<std::string> patients_with_order;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const std::string where = name + ":" + std::to_string(record.line) + ": ";
    if (record.fields.size() != header.size()) {
      problems.push_back(where + std::to_string(record.fields.size()) + " fields, the header has " +
                         std::to_string(header.size()));
      continue;
    }
    const auto field = [&](Column c) -> std::string {
      return column_of[c] >= 0 ? record.fields[static_cast<std::size_t>(column_of[c])] : "";
    };
    ManifestRow row;
    row.line = record.line;
    row.path = resolve(field(kPath));
    row.patient_id = field(kPatient);
    row.time = field(kTime);
    row.view = field(kView);
    row.mask = resolve(field(kMask));
    row.left_mask = resolve(field(kLeft));
    row.right_mask = resolve(field(kRight));
    row.split = field(kSplit);
    row.study = field(kStudy);
    const std::string spacing[2] = {field(kSpacingRow), field(kSpacingCol)};
    double* const targets[2] = {&row.spacing_row_mm, &row.spacing_col_mm};
    for (int axis = 0; axis < 2; ++axis) {
      if (!parse_spacing(spacing[axis], *targets[axis])) {
        problems.push_back(where + kColumnNames[kSpacingRow + axis] + " '" + spacing[axis] +
                           "' is not a pixel spacing in mm (a number > 0)");
      }
    }
    if (spacing[0].empty() != spacing[1].empty()) {
      problems.push_back(where + "give both spacing_row_mm and spacing_col_mm, or neither");
      row.spacing_row_mm = row.spacing_col_mm = std::numeric_limits<double>::quiet_NaN();
    }
    const std::string order = field(kOrder);
    if (order.empty()) {
      unordered_rows[row.patient_id].push_back(manifest.rows.size());
    } else {
      patients_with_order.insert(row.patient_id);
      const bool digits =
          std::all_of(order.begin(), order.end(), [](unsigned char c) { return std::isdigit(c); });
      if (!digits || order.size() > 18) {
        problems.push_back(where + "order '" + order + "' is not a non-negative integer");
      } else {
        row.order = std::stoll(order);
      }
    }
    manifest.rows.push_back(std::move(row));
  }
  for (auto& [patient, indices] : unordered_rows) {
    if (patients_with_order.count(patient)) {
      const ManifestRow& row = manifest.rows[indices.front()];
      problems.push_back(name + ":" + std::to_string(row.line) + ": patient '" + patient +
                         "' has an order on other lines but none here");
      continue;
    }
    std::set<std::string> times;
    for (const std::size_t i : indices) times.insert(manifest.rows[i].time);
    for (const std::size_t i : indices) {
      ManifestRow& row = manifest.rows[i];
      row.order = std::distance(times.begin(), times.find(row.time));
    }
  }
  std::vector<std::string> more = validate_manifest(manifest, check);
  problems.insert(problems.end(), more.begin(), more.end());
  if (!problems.empty()) throw common::InputError(problems);
  return manifest;
}

void save_manifest(const Manifest& manifest, const fs::path& file) {
  const fs::path base = fs::absolute(file).parent_path();
  const auto relative = [&](const fs::path& path) -> std::string {
    if (path.empty()) return "";
    const fs::path absolute = fs::absolute(path).lexically_normal();
    const fs::path inside = absolute.lexically_relative(base);
    if (!inside.empty() && *inside.begin() != "..") return inside.generic_string();
    return absolute.generic_string();
  };
  std::ostringstream out;
  for (int c = 0; c < kCount; ++c) out << (c ? "," : "") << kColumnNames[c];
  out << '\n';
  for (const ManifestRow& row : manifest.rows) {
    const std::string fields[kCount] = {relative(row.path),
                                        row.patient_id,
                                        std::to_string(row.order),
                                        row.time,
                                        row.view,
                                        relative(row.mask),
                                        relative(row.left_mask),
                                        relative(row.right_mask),
                                        row.split,
                                        row.study,
                                        spacing_text(row.spacing_row_mm),
                                        spacing_text(row.spacing_col_mm)};
    for (int c = 0; c < kCount; ++c) out << (c ? "," : "") << csv_field(fields[c]);
    out << '\n';
  }
  common::write_file_atomic(file, out.str());
}

}  // namespace cltci::data
