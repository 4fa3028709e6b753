#include "cltci/data/lung_masks.h"

#include "cltci/common/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

namespace cltci::data {
namespace {

bool centroid_x(const cv::Mat& mask, double& x) {
  const cv::Moments m = cv::moments(mask > 0, true);
  if (m.m00 <= 0) return false;
  x = m.m10 / m.m00;
  return true;
}

}  // namespace

LungLabelMap combine_lung_masks(const cv::Mat& left, const cv::Mat& right) {
  if (left.size() != right.size() || left.type() != CV_8UC1 || right.type() != CV_8UC1) {
    throw common::Error("combine_lung_masks: masks differ in size or are not CV_8UC1");
  }
  LungLabelMap result;
  result.labels = cv::Mat::zeros(left.size(), CV_8UC1);
  for (int y = 0; y < left.rows; ++y) {
    const auto* l = left.ptr<unsigned char>(y);
    const auto* r = right.ptr<unsigned char>(y);
    auto* out = result.labels.ptr<unsigned char>(y);
    for (int x = 0; x < left.cols; ++x) {
      if (l[x] && r[x]) {
        out[x] = 255;  // datasets.md §8: overlaps are expected nowhere; keep them out of the loss
        ++result.overlap;
      } else if (l[x]) {
        out[x] = 1;
      } else if (r[x]) {
        out[x] = 2;
      }
    }
  }
  return result;
}

bool lung_sides_swapped(const cv::Mat& left, const cv::Mat& right) {
  double left_x = 0.0;
  double right_x = 0.0;
  if (!centroid_x(left, left_x) || !centroid_x(right, right_x)) return false;
  return left_x < right_x;
}

cv::Mat split_lungs_by_components(const cv::Mat& both) {
  cv::Mat components;
  cv::Mat stats;
  cv::Mat centroids;
  const int count = cv::connectedComponentsWithStats(both > 0, components, stats, centroids, 8);
  if (count < 3) return {};  // label 0 is the background
  std::vector<int> order(static_cast<std::size_t>(count - 1));
  for (int i = 1; i < count; ++i) order[static_cast<std::size_t>(i - 1)] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return stats.at<int>(a, cv::CC_STAT_AREA) > stats.at<int>(b, cv::CC_STAT_AREA);
  });
  const int first = order[0];
  const int second = order[1];
  const bool first_is_left = centroids.at<double>(first, 0) > centroids.at<double>(second, 0);
  cv::Mat labels = cv::Mat::zeros(both.size(), CV_8UC1);
  labels.setTo(first_is_left ? 1 : 2, components == first);
  labels.setTo(first_is_left ? 2 : 1, components == second);
  return labels;
}

}  // namespace cltci::data
