// The manifest: one row per image, the common currency between importers, `prepare`, the cache
// and the samplers. On disk it is a CSV with a header line (docs/manifest.md):
//   path,patient_id,order,time,view,mask,left_mask,right_mask,split,study,spacing_row_mm,
//   spacing_col_mm
// Relative paths are resolved against the manifest's directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace cltci::data {

struct ManifestRow {
  std::filesystem::path path;        ///< the image file (absolute after loading)
  std::string patient_id;            ///< unique across data sets, e.g. "nih:00000001"
  std::int64_t order = 0;            ///< acquisition order within the patient (0-based, ascending)
  std::string time;                  ///< acquisition date-time as text (ISO 8601), may be empty
  std::string view;                  ///< "PA", "AP", "LL", ... or empty when unknown
  std::filesystem::path mask;        ///< label map (0/1/2/255), empty when none
  std::filesystem::path left_mask;   ///< binary mask of the patient's left lung, empty when none
  std::filesystem::path right_mask;  ///< binary mask of the patient's right lung, empty when none
  std::string split;                 ///< "train", "test", a fold number, or empty
  std::string study;                 ///< study id when the source has one (grouping only)
  /// Pixel spacing of the image file in mm (rows, columns), NaN when unknown: what turns
  /// surface distances (HD95, ASSD) into millimetres.
  double spacing_row_mm = std::numeric_limits<double>::quiet_NaN();
  double spacing_col_mm = std::numeric_limits<double>::quiet_NaN();
  std::int64_t line = 0;  ///< 1-based CSV line the row came from (0: not from a file)

  bool has_labels() const { return !mask.empty() || (!left_mask.empty() && !right_mask.empty()); }
};

struct Manifest {
  std::filesystem::path file;  ///< where it was loaded from / will be saved to
  std::vector<ManifestRow> rows;
};

struct ManifestCheck {
  bool files_exist = true;   ///< every referenced file exists
  bool mask_values = false;  ///< decode every mask and check values / aspect ratios (slow)
};

/// Loads and validates a manifest CSV. Every problem found is one line naming the file and row,
/// e.g. "data/m.csv:14: mask 'x.png' has value 7 (allowed: 0, 1, 2, 255)"; all of them are
/// thrown together as common::InputError.
Manifest load_manifest(const std::filesystem::path& file, const ManifestCheck& check = {});

/// Writes a manifest CSV atomically (paths relative to the file's directory where possible).
void save_manifest(const Manifest& manifest, const std::filesystem::path& file);

/// Validation shared by load_manifest and importers: duplicate rows, a patient in two splits,
/// missing files, and (when asked) mask values and image/mask aspect ratios.
std::vector<std::string> validate_manifest(const Manifest& manifest, const ManifestCheck& check);

/// The column names, in the order save_manifest writes them.
const std::vector<std::string>& manifest_columns();

}  // namespace cltci::data
