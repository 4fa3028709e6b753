// Importers: one per data set layout (docs/importers.md). Each turns a data set's native files
// into a manifest (patient ids prefixed by the data set, acquisition order per patient, view,
// masks) plus a report of what it found and what it skipped.
#pragma once

#include "cltci/data/manifest.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {

/// What to do when the left-lung mask lies on the image's left of the right-lung mask (the
/// patient's left lung is on the image right in a PA view).
enum class SwappedSides { kRefuse, kFix };

struct ImportOptions {
  std::string kind;            ///< one of import_kinds()
  std::filesystem::path root;  ///< the data set's top folder as distributed
  /// Where derived files go (label maps built from left/right masks). Empty: masks stay as
  /// left_mask/right_mask columns pointing into the data set.
  std::filesystem::path output_dir;
  std::filesystem::path csv;  ///< metadata CSV when not at its usual place (nih, chexpert, mimic)
  std::string prefix;         ///< patient id prefix; empty: the kind's (`nih`, `jsrt`, ...)
  bool allow_skips = false;   ///< missing/corrupt files become listed skips instead of errors
  bool frontal_only = true;   ///< keep PA/AP views (unknown views are kept and counted)
  SwappedSides swapped_sides = SwappedSides::kRefuse;
  bool verify_images = false;  ///< decode every image (slow) to catch corrupt files
};

struct SkippedFile {
  std::filesystem::path file;
  std::string reason;
};

struct ImportReport {
  std::size_t images = 0;
  std::size_t patients = 0;
  std::size_t patients_with_followups = 0;  ///< patients with >= 2 distinct time points
  std::size_t filtered_views = 0;           ///< left out by frontal_only
  std::size_t unknown_views = 0;            ///< kept although the view is not known
  std::size_t labelled = 0;                 ///< rows with masks
  std::vector<SkippedFile> skipped;         ///< missing/corrupt files (allow_skips)
  std::vector<std::string> warnings;        ///< e.g. fixed left/right swaps

  /// Several lines for humans, e.g. "images: 12\npatients: 4\n...".
  std::string to_text() const;
};

struct ImportResult {
  Manifest manifest;
  ImportReport report;
};

/// The importer kinds: folder, jsrt, montgomery, shenzhen, nih, chexpert, mimic, dicom.
const std::vector<std::string>& import_kinds();

/// Runs the importer named by options.kind. Problems with the input (unknown kind, missing
/// root or metadata, files that are missing or corrupt without allow_skips, swapped sides with
/// SwappedSides::kRefuse) are thrown together as common::InputError, one line each. The rows
/// are sorted by patient then order, and orders are dense (0, 1, ...) per patient.
ImportResult import_dataset(const ImportOptions& options);

}  // namespace cltci::data
