// The phantom written in the native layouts of the public data sets (datasets.md), so that every
// importer can be run end to end on files in the real formats, and so that a user can rehearse
// an import pipeline before the real archive arrives. The pixels and labels are exactly those of
// render_phantom; only the container, geometry and polarity change as each format demands.
#pragma once

#include "cltci/data/phantom.h"

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {

enum class PhantomFormat {
  kPng,         ///< images/ and masks/ with a folder per patient, plus manifest.csv
  kMontgomery,  ///< MontgomerySet/CXR_png + ManualMask/{leftMask,rightMask}
  kJsrt,        ///< JSRT 2048² .IMG films + SCR fold1/fold2 lung GIFs (1024²)
  kDicom,       ///< DICOM folder per patient, dated in acquisition order
  kDicomFlat,   ///< the same DICOM files in one flat folder, names unrelated to the order
  kNih          ///< ChestX-ray14 v2020 CSV + PNGs, Follow-up # out of file-name order
};

/// "png", "montgomery", "jsrt", "dicom", "dicom-flat", "nih".
const std::vector<std::string>& phantom_format_names();
/// Throws common::InputError naming the known formats when `name` is not one of them.
PhantomFormat parse_phantom_format(const std::string& name);
std::string to_string(PhantomFormat format);

/// One exported acquisition: which phantom image it holds and where it went.
struct PhantomExportFile {
  PhantomEntry entry;               ///< patient, order and phantom id of the pixels
  std::filesystem::path image;      ///< the image file written
  std::filesystem::path left_mask;  ///< patient's left lung (binary), empty when none
  std::filesystem::path right_mask;
  std::filesystem::path label_map;  ///< 0/1/2 label map PNG (kPng only)
  std::string patient_id;  ///< the id the matching importer gives it, e.g. "montgomery:MCUCXR_0003"
  std::string time;        ///< ISO 8601 acquisition time written into the file (DICOM, else "")
};

struct PhantomExport {
  PhantomFormat format = PhantomFormat::kPng;
  std::filesystem::path root;      ///< what to pass as ImportOptions::root
  std::string import_kind;         ///< the importer that reads it: folder, montgomery, jsrt, ...
  std::filesystem::path manifest;  ///< manifest.csv (kPng only), else empty
  std::vector<PhantomExportFile> files;  ///< in phantom_plan order
};

/// Writes every acquisition of phantom_plan(options) below `dir` in `format`. Deterministic:
/// the same options give the same pixels, names and tags (DICOM UIDs excepted: the writer makes
/// fresh ones). Layouts, names and polarity are documented in docs/prepare.md. Throws
/// common::InputError for invalid options, common::Error when a file cannot be written.
PhantomExport export_phantom(const std::filesystem::path& dir,
                             const PhantomOptions& options,
                             PhantomFormat format);

/// Pads `image` to a centred square with zeros and resizes it to side × side (bilinear for
/// images, nearest for CV_8U label maps): how JSRT films and SCR masks are made from a phantom,
/// and how tests compare what an importer reads back.
cv::Mat pad_to_square(const cv::Mat& image, int side, bool nearest);

/// JSRT stored values (CV_16UC1, 12-bit, high = dark film) for a displayed [0, 1] image already
/// at 2048²: the inverse of read_image's `4095 - v`.
cv::Mat jsrt_stored_values(const cv::Mat& display);

}  // namespace cltci::data
