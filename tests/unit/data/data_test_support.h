// Helpers shared by the data layer's unit tests.
#pragma once

#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/manifest.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cltci::testing {

/// The lines of the common::InputError that `action` throws; "(no InputError)" when it throws
/// none, so that a missing error fails the comparison with a readable message.
inline std::vector<std::string> problems_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const common::InputError& e) {
    return e.problems();
  }
  return {"(no InputError)"};
}

/// A small uniform greyscale PNG at `file` (its folders created): an image an importer can find.
inline void touch_png(const std::filesystem::path& file,
                      int width = 8,
                      int height = 8,
                      int value = 0) {
  std::filesystem::create_directories(file.parent_path());
  data::write_png(file, cv::Mat(height, width, CV_8UC1, cv::Scalar(value)));
}

/// (file name, acquisition order) of one patient's rows, in manifest order.
using PatientRows = std::vector<std::pair<std::string, std::int64_t>>;

inline PatientRows rows_of(const data::Manifest& manifest, const std::string& patient) {
  PatientRows out;
  for (const data::ManifestRow& row : manifest.rows) {
    if (row.patient_id == patient) out.emplace_back(row.path.filename().string(), row.order);
  }
  return out;
}

/// Column of the centroid of the pixels of `labels` equal to `value` (left/right checks).
inline double centroid_x(const cv::Mat& labels, int value) {
  const cv::Moments m = cv::moments(labels == value, true);
  return m.m10 / m.m00;
}

}  // namespace cltci::testing
