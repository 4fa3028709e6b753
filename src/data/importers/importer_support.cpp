#include "data/importers/importer_support.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/lung_masks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;

ImportSession::ImportSession(const ImportOptions& options, const std::string& default_prefix)
    : options_(options), prefix_(options.prefix.empty() ? default_prefix : options.prefix) {}

void ImportSession::problem(const fs::path& file,
                            const std::string& reason,
                            const std::string& where) {
  const std::string located = where.empty() ? "" : where + ": ";
  // Decoders' own errors already start with the quoted file; naming it twice reads as two files.
  const std::string named = "'" + file.string() + "': ";
  const std::string text =
      reason.compare(0, named.size(), named) == 0 ? reason.substr(named.size()) : reason;
  if (options_.allow_skips) {
    report_.skipped.push_back({file, located + text});
  } else {
    errors_.push_back(located + named + text);
  }
}

void ImportSession::warn(const std::string& line) {
  spdlog::warn("[data] {}", line);
  report_.warnings.push_back(line);
}

bool ImportSession::keep_view(const std::string& view) {
  if (view.empty()) {
    ++report_.unknown_views;
    return true;
  }
  if (!options_.frontal_only || view == "PA" || view == "AP") return true;
  ++report_.filtered_views;
  return false;
}

bool ImportSession::attach_lung_masks(ManifestRow& row,
                                      const fs::path& left_path,
                                      const fs::path& right_path,
                                      const std::string& stem) {
  cv::Mat left;
  cv::Mat right;
  try {
    left = read_mask(left_path);
    right = read_mask(right_path);
  } catch (const common::InputError& e) {
    problem(row.path, std::string("unreadable lung mask: ") + e.what());
    return false;
  }
  if (left.size() != right.size()) {
    problem(left_path, "left and right lung masks differ in size (" + std::to_string(left.cols) +
                           "x" + std::to_string(left.rows) + " vs " + std::to_string(right.cols) +
                           "x" + std::to_string(right.rows) + ")");
    return false;
  }
  fs::path left_file = left_path;
  fs::path right_file = right_path;
  if (lung_sides_swapped(left, right)) {
    if (options_.swapped_sides == SwappedSides::kRefuse) {
      problem(left_path,
              "the left-lung mask lies on the image's left of the right-lung mask (the patient's "
              "left lung is on the image right in a PA view); set swapped sides to 'fix' to swap "
              "them");
      return false;
    }
    warn("'" + left_path.string() + "': left and right lung masks swapped (fixed)");
    std::swap(left, right);
    std::swap(left_file, right_file);
  }
  if (options_.output_dir.empty()) {
    row.left_mask = left_file;
    row.right_mask = right_file;
    return true;
  }
  const LungLabelMap map = combine_lung_masks(left, right);
  if (map.overlap > 0) {
    warn("'" + left_path.string() + "': " + std::to_string(map.overlap) +
         " pixels in both lung masks (written as 255, ignored)");
  }
  attach_label_map(row, map.labels, stem);
  return true;
}

void ImportSession::attach_label_map(ManifestRow& row,
                                     const cv::Mat& labels,
                                     const std::string& stem) {
  const fs::path file = options_.output_dir / "masks" / (stem + ".png");
  write_png(file, labels);
  row.mask = fs::absolute(file).lexically_normal();
}

void ImportSession::add(ManifestRow row, OrderKey key) {
  if (options_.verify_images) {
    try {
      (void)read_image(row.path);
    } catch (const common::InputError& e) {
      problem(row.path, e.what());
      return;
    }
  }
  rows_.push_back(std::move(row));
  keys_.push_back(std::move(key));
}

ImportResult ImportSession::finish() {
  std::vector<std::string> problems = fatal_;
  problems.insert(problems.end(), errors_.begin(), errors_.end());
  if (!problems.empty()) throw common::InputError(problems);

  std::vector<std::size_t> index(rows_.size());
  std::iota(index.begin(), index.end(), 0);
  std::sort(index.begin(), index.end(), [&](std::size_t a, std::size_t b) {
    const auto& ra = rows_[a];
    const auto& rb = rows_[b];
    return std::tie(ra.patient_id, keys_[a].time_point, keys_[a].tie_break, ra.path) <
           std::tie(rb.patient_id, keys_[b].time_point, keys_[b].tie_break, rb.path);
  });
  ImportResult result;
  Manifest& manifest = result.manifest;
  manifest.file =
      (options_.output_dir.empty() ? options_.root : options_.output_dir) / "manifest.csv";
  std::string patient;
  std::string time_point;
  std::int64_t order = -1;
  for (const std::size_t i : index) {
    ManifestRow row = rows_[i];
    if (row.patient_id != patient) {
      patient = row.patient_id;
      order = 0;
      time_point = keys_[i].time_point;
      ++result.report.patients;
    } else if (keys_[i].time_point != time_point) {
      time_point = keys_[i].time_point;
      if (++order == 1) ++result.report.patients_with_followups;
    }
    row.order = order;
    if (row.has_labels()) ++report_.labelled;
    manifest.rows.push_back(std::move(row));
  }
  ManifestCheck check;
  check.files_exist = true;
  const std::vector<std::string> invalid = validate_manifest(manifest, check);
  if (!invalid.empty()) throw common::InputError(invalid);
  result.report.images = manifest.rows.size();
  result.report.filtered_views = report_.filtered_views;
  result.report.unknown_views = report_.unknown_views;
  result.report.labelled = report_.labelled;
  result.report.skipped = report_.skipped;
  result.report.warnings = report_.warnings;
  return result;
}

int CsvTable::column(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

int CsvTable::require(const std::string& name, ImportSession& session) const {
  const int index = column(name);
  if (index < 0) session.fatal(file.string() + ":1: missing column '" + name + "'");
  return index;
}

std::string CsvTable::where(const CsvRecord& record) const {
  return file.filename().string() + ":" + std::to_string(record.line);
}

CsvTable read_csv_table(const fs::path& file) {
  if (lower(file.extension().string()) == ".gz") {
    throw common::InputError("'" + file.string() + "': compressed CSV; decompress it first " +
                             "(gunzip -k)");
  }
  CsvTable table;
  table.file = file;
  table.records = parse_csv(common::read_file(file), file.string());
  if (table.records.empty()) throw common::InputError("'" + file.string() + "': empty CSV");
  table.header = table.records.front().fields;
  table.records.erase(table.records.begin());
  return table;
}

fs::path find_metadata(ImportSession& session, const std::vector<fs::path>& candidates) {
  if (!session.options().csv.empty()) {
    std::error_code error;
    if (fs::is_regular_file(session.options().csv, error)) return session.options().csv;
    session.fatal("'" + session.options().csv.string() + "': metadata CSV not found");
    return {};
  }
  std::string tried;
  for (const fs::path& candidate : candidates) {
    std::error_code error;
    if (fs::is_regular_file(candidate, error)) return candidate;
    tried += (tried.empty() ? "'" : ", '") + candidate.string() + "'";
  }
  session.fatal("metadata CSV not found (looked for " + tried + ")");
  return {};
}

std::vector<fs::path> list_files(const fs::path& root) {
  std::vector<fs::path> files;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

fs::path locate_top(const fs::path& root,
                    const std::vector<std::string>& children,
                    const std::string& marker) {
  std::error_code error;
  if (fs::exists(root / marker, error)) return root;
  for (const std::string& child : children) {
    if (fs::exists(root / child / marker, error)) return root / child;
  }
  return root;
}

std::vector<fs::path> cxr_png_files(ImportSession& session,
                                    const fs::path& top,
                                    const std::string& set) {
  const fs::path images = top / "CXR_png";
  std::error_code error;
  if (!fs::is_directory(images, error)) {
    session.fatal("'" + images.string() + "': " + set + " CXR_png folder not found");
    return {};
  }
  std::vector<fs::path> pngs;
  for (const fs::path& file : list_files(images)) {
    if (lower(file.extension().string()) == ".png") pngs.push_back(file);
  }
  return pngs;
}

ManifestRow cxr_png_row(const ImportSession& session, const fs::path& file) {
  const std::string stem = file.stem().string();
  ManifestRow row;
  row.path = fs::absolute(file).lexically_normal();
  const std::size_t label = stem.find_last_of('_');
  row.patient_id = session.patient_id(label == std::string::npos ? stem : stem.substr(0, label));
  row.view = "PA";
  return row;
}

bool has_dicom_magic(const fs::path& file) {
  try {
    return detect_image_format(file) == ImageFormat::kDicom;
  } catch (const common::InputError&) {
    return false;
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string zero_padded(long long value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

bool is_image_extension(const std::string& ext) {
  static const std::set<std::string> known = {".png", ".jpg", ".jpeg", ".tif",   ".tiff",
                                              ".bmp", ".gif", ".dcm",  ".dicom", ".img"};
  return known.count(ext) > 0;
}

bool png_dimensions(const std::filesystem::path& file, int& width, int& height) {
  std::ifstream in(file, std::ios::binary);
  unsigned char head[24] = {};
  if (!in.read(reinterpret_cast<char*>(head), sizeof head)) return false;
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (!std::equal(std::begin(signature), std::end(signature), head) ||
      std::string(reinterpret_cast<const char*>(head + 12), 4) != "IHDR") {
    return false;
  }
  const auto big_endian = [&](int at) {
    return (static_cast<std::uint32_t>(head[at]) << 24) |
           (static_cast<std::uint32_t>(head[at + 1]) << 16) |
           (static_cast<std::uint32_t>(head[at + 2]) << 8) | head[at + 3];
  };
  width = static_cast<int>(big_endian(16));
  height = static_cast<int>(big_endian(20));
  return width > 0 && height > 0;
}

}  // namespace cltci::data::importers
