#include "cltci/data/dataset_from_manifest.h"

#include "cltci/common/error.h"
#include "cltci/data/image_io.h"

#include <opencv2/imgproc.hpp>

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

}  // namespace

std::vector<SourceRecord> manifest_sources(const Manifest& manifest) {
  std::vector<SourceRecord> records;
  records.reserve(manifest.rows.size());
  for (const ManifestRow& row : manifest.rows) {
    SourceRecord record;
    record.name = row.path.string();
    record.patient_id = row.patient_id;
    record.order = row.order;
    record.identity = file_identity(row.path);
    for (const std::filesystem::path* mask : {&row.mask, &row.left_mask, &row.right_mask}) {
      record.identity += '+';
      if (!mask->empty()) record.identity += file_identity(*mask);
    }
    record.load = [row] {
      SourceImage source;
      source.image = read_image(row.path).pixels;
      if (!row.mask.empty()) {
        source.labels = read_mask(row.mask);
      } else if (!row.left_mask.empty() && !row.right_mask.empty()) {
        source.labels =
            combine_sides(read_mask(row.left_mask), read_mask(row.right_mask), row.left_mask);
      }
      return source;
    };
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cltci::data
