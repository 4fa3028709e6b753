// What every importer shares: the collected rows with their ordering keys, per-file problems
// (errors, or skips when allowed), the view filter, lung masks, and the final report.
#pragma once

#include "cltci/data/csv.h"
#include "cltci/data/importer.h"

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data::importers {

/// How rows of one patient are ordered: `time_point` is compared as text, equal values are one
/// acquisition (same `order`); `tie_break` orders the rows inside one time point.
struct OrderKey {
  std::string time_point;
  std::string tie_break;
};

class ImportSession {
 public:
  ImportSession(const ImportOptions& options, const std::string& default_prefix);

  const ImportOptions& options() const { return options_; }
  /// "<prefix>:<local>", unique across data sets.
  std::string patient_id(const std::string& local) const { return prefix_ + ":" + local; }
  const std::string& prefix() const { return prefix_; }

  /// A missing or unreadable file: an error line, or a listed skip with allow_skips. `where` is
  /// an optional location such as "train.csv:12".
  void problem(const std::filesystem::path& file,
               const std::string& reason,
               const std::string& where = "");
  /// A problem with the input as a whole (never skippable).
  void fatal(const std::string& line) { fatal_.push_back(line); }
  void warn(const std::string& line);

  /// Applies frontal_only to a view ("PA", "AP", "LL", "RL", "LAT", "" = unknown). Returns false
  /// (and counts the row as filtered) when the row must be left out.
  bool keep_view(const std::string& view);
  /// Counts a row left out by another filter (e.g. DICOM modality).
  void filtered() { ++report_.filtered_views; }

  /// Binary left/right lung masks → a label map under output_dir/masks/<stem>.png, or the
  /// left_mask/right_mask columns when there is no output_dir. Checks sizes and sides; returns
  /// false after recording a problem.
  bool attach_lung_masks(ManifestRow& row,
                         const std::filesystem::path& left,
                         const std::filesystem::path& right,
                         const std::string& stem);
  /// Writes an already built label map under output_dir/masks/<stem>.png.
  void attach_label_map(ManifestRow& row, const cv::Mat& labels, const std::string& stem);

  /// Adds a row; with verify_images its image is decoded first and a failure is a problem.
  void add(ManifestRow row, OrderKey key);

  /// Sorts rows (patient, time point, tie break), sets dense orders, validates, fills the
  /// report. Throws common::InputError with every error line collected.
  ImportResult finish();

 private:
  ImportOptions options_;
  std::string prefix_;
  std::vector<ManifestRow> rows_;
  std::vector<OrderKey> keys_;
  std::vector<std::string> fatal_;
  std::vector<std::string> errors_;
  ImportReport report_;
};

/// Parsed metadata CSV with columns looked up by name.
struct CsvTable {
  std::filesystem::path file;
  std::vector<std::string> header;
  std::vector<CsvRecord> records;  ///< without the header

  /// Column index, or -1.
  int column(const std::string& name) const;
  /// Column index; records "<file>:<line>: missing column 'name'" as fatal when absent.
  int require(const std::string& name, ImportSession& session) const;
  std::string where(const CsvRecord& record) const;
};

CsvTable read_csv_table(const std::filesystem::path& file);

/// The first of `candidates` that exists (options.csv first when set); records a fatal problem
/// naming all of them and returns "" when none does.
std::filesystem::path find_metadata(ImportSession& session,
                                    const std::vector<std::filesystem::path>& candidates);

/// Every regular file below `root`, sorted by path (hidden files and folders left out).
std::vector<std::filesystem::path> list_files(const std::filesystem::path& root);

/// `root`, or the one of `children` inside it that holds `marker` (layouts are often
/// unpacked with or without their top folder).
std::filesystem::path locate_top(const std::filesystem::path& root,
                                 const std::vector<std::string>& children,
                                 const std::string& marker);

/// The PNGs of the `CXR_png` folder below `top` (the Montgomery and Shenzhen sets), sorted;
/// none, after a fatal problem naming `set` and the folder, when there is no such folder.
std::vector<std::filesystem::path> cxr_png_files(ImportSession& session,
                                                 const std::filesystem::path& top,
                                                 const std::string& set);
/// The PA row of a `<SET>_<4 digits>_<0|1>.png` file of those sets: the trailing _0/_1 is the
/// TB label, not part of the patient's identity.
ManifestRow cxr_png_row(const ImportSession& session, const std::filesystem::path& file);

/// Whether `file` starts like a DICOM file (the DICM magic); false when it cannot be read.
/// Archives store DICOM under any name, so the importers ask this of files without an extension.
bool has_dicom_magic(const std::filesystem::path& file);

std::string lower(std::string text);
std::string zero_padded(long long value, int width);
bool is_image_extension(const std::string& lower_extension);

/// Width and height from a PNG's IHDR chunk (24 bytes read, nothing decoded); false when the file
/// is not a PNG.
bool png_dimensions(const std::filesystem::path& file, int& width, int& height);

// One function per importer (one source file each).
void import_folder(ImportSession& session);
void import_jsrt(ImportSession& session);
void import_montgomery(ImportSession& session);
void import_shenzhen(ImportSession& session);
void import_nih(ImportSession& session);
void import_chexpert(ImportSession& session);
void import_mimic(ImportSession& session);
void import_dicom(ImportSession& session);

}  // namespace cltci::data::importers
