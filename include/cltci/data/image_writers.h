// Writers for the formats the toolkit reads, so that tests and the phantom exporters produce
// files exactly as the public data sets ship them (datasets.md). Every writer replaces its
// target atomically and throws common::Error when it cannot write.
#pragma once

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {

/// PNG of a CV_8UC1 or CV_16UC1 image (label maps, 8- and 16-bit X-rays) or of a CV_8UC3 BGR
/// picture (overlays, plots).
void write_png(const std::filesystem::path& file, const cv::Mat& image);

/// JSRT raw `.IMG`: `stored` is CV_16UC1 2048x2048 holding the values as they are in the file
/// (12-bit, high = dark film, i.e. a negative; read_image shows 4095 - v).
void write_jsrt_img(const std::filesystem::path& file, const cv::Mat& stored);

/// SCR-style binary mask GIF: a two-colour palette (0 = black, 1 = white); any non-zero pixel of
/// the CV_8UC1 `mask` becomes white.
void write_gif_mask(const std::filesystem::path& file, const cv::Mat& mask);

struct DicomWriteOptions {
  bool monochrome1 = false;  ///< MONOCHROME1: the minimum is shown white
  int bits_stored = 12;      ///< of 16 allocated (unsigned)
  double rescale_slope = 1.0;
  double rescale_intercept = 0.0;
  std::vector<double> window_centers;  ///< several values are written `\`-separated
  std::vector<double> window_widths;
  std::string patient_id;
  std::string study_date;        ///< DA, YYYYMMDD
  std::string study_time;        ///< TM, HHMMSS
  std::string acquisition_date;  ///< DA
  std::string acquisition_time;  ///< TM
  std::string view_position;     ///< "PA", "AP", "LL", ... (empty: tag omitted)
  std::string modality = "DX";
  std::string pixel_spacing;         ///< DS pair `row\col` in mm (empty: tag omitted)
  std::string imager_pixel_spacing;  ///< the same at the detector (empty: tag omitted)
  int instance_number = 1;
  bool jpeg_ls_lossless = false;  ///< encode the pixel data with JPEG-LS (lossless)
};

/// A single-frame DICOM X-ray (Digital X-Ray Image Storage, little endian explicit or JPEG-LS)
/// from CV_16UC1 stored values. Throws common::InputError when the build has no DICOM support.
void write_dicom(const std::filesystem::path& file,
                 const cv::Mat& stored,
                 const DicomWriteOptions& options);

}  // namespace cltci::data
