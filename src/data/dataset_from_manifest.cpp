#include "cltci/data/dataset_from_manifest.h"

#include "cltci/common/error.h"
#include "cltci/data/acquisition_time.h"
#include "cltci/data/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

cv::Mat combine_sides(const cv::Mat& left,
                      const cv::Mat& right,
                      const std::filesystem::path& left_file) {
  if (left.size() != right.size()) {
    throw common::InputError(left_file.string() + ": left and right masks differ in size");
  }
  cv::Mat labels = cv::Mat::zeros(left.size(), CV_8UC1);
  const cv::Mat in_left = left > 0;
  const cv::Mat in_right = right > 0;
  labels.setTo(1, in_left);
  labels.setTo(2, in_right);
  labels.setTo(255, in_left & in_right);
  return labels;
}

/// Checks a decoded label map against its image here, where the mask file and the manifest
/// line are known: the cache's own check could only name the image.
void check_labels(const cv::Mat& image,
                  const cv::Mat& labels,
                  const std::filesystem::path& mask_file,
                  const std::string& where) {
  const double image_aspect = static_cast<double>(image.cols) / image.rows;
  const double mask_aspect = static_cast<double>(labels.cols) / labels.rows;
  if (std::abs(image_aspect - mask_aspect) > 0.01 * image_aspect) {
    throw common::InputError(where + "mask " + mask_file.string() + " is " +
                             std::to_string(labels.cols) + "x" + std::to_string(labels.rows) +
                             " but the image is " + std::to_string(image.cols) + "x" +
                             std::to_string(image.rows) + " (aspect ratios differ)");
  }
  const cv::Mat bad = (labels > 2) & (labels != 255);
  if (cv::countNonZero(bad) > 0) {
    cv::Point at;
    cv::minMaxLoc(bad, nullptr, nullptr, nullptr, &at);
    throw common::InputError(where + "mask " + mask_file.string() + " has value " +
                             std::to_string(labels.at<std::uint8_t>(at)) +
                             " (allowed: 0, 1, 2, 255)");
  }
}

}  // namespace

std::vector<SourceRecord> manifest_sources(const Manifest& manifest) {
  std::vector<SourceRecord> records;
  records.reserve(manifest.rows.size());
  for (std::size_t i = 0; i < manifest.rows.size(); ++i) {
    const ManifestRow& row = manifest.rows[i];
    // As load_manifest reports a row: rows built in memory get the line save_manifest gives them.
    const std::int64_t line = row.line > 0 ? row.line : static_cast<std::int64_t>(i) + 2;
    const std::string where = manifest.file.string() + ":" + std::to_string(line) + ": ";
    SourceRecord record;
    record.name = row.path.string();
    record.patient_id = row.patient_id;
    record.order = row.order;
    // load_manifest checks the time's grammar only, so a 2021-02-30 is caught here, on its line.
    try {
      record.days = iso_to_days(row.time);
    } catch (const common::InputError& e) {
      throw common::InputError(where + e.what());
    }
    record.study = row.study;
    record.spacing_row_mm = row.spacing_row_mm;
    record.spacing_col_mm = row.spacing_col_mm;
    record.identity = file_identity(row.path);
    for (const std::filesystem::path* mask : {&row.mask, &row.left_mask, &row.right_mask}) {
      record.identity += '+';
      if (!mask->empty()) record.identity += file_identity(*mask);
    }
    record.load = [row, where] {
      SourceImage source;
      source.image = read_image(row.path).pixels;
      if (!row.mask.empty()) {
        source.labels = read_mask(row.mask);
        check_labels(source.image, source.labels, row.mask, where);
      } else if (!row.left_mask.empty() && !row.right_mask.empty()) {
        source.labels =
            combine_sides(read_mask(row.left_mask), read_mask(row.right_mask), row.left_mask);
        check_labels(source.image, source.labels, row.left_mask, where);
      }
      return source;
    };
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cltci::data
