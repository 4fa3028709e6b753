#include "cltci/data/square_geometry.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cltci::data {
namespace {

// Source index for destination pixel `d` under centre-exact nearest neighbour.
std::vector<int> nearest_map(int destination, int source) {
  std::vector<int> map(static_cast<std::size_t>(destination));
  for (int d = 0; d < destination; ++d) {
    const auto s = static_cast<int>(std::floor((d + 0.5) * source / destination));
    map[static_cast<std::size_t>(d)] = std::clamp(s, 0, source - 1);
  }
  return map;
}

}  // namespace

ImageGeometry square_geometry(int height, int width, int image_size) {
  ImageGeometry g;
  g.height = height;
  g.width = width;
  g.side = std::max(height, width);
  g.pad_top = (g.side - height) / 2;
  g.pad_left = (g.side - width) / 2;
  g.scale = static_cast<double>(image_size) / g.side;
  return g;
}

cv::Mat square_resize_image(const cv::Mat& image, int image_size) {
  const ImageGeometry g = square_geometry(image.rows, image.cols, image_size);
  cv::Mat source;
  image.convertTo(source, CV_32F);
  cv::Mat square;
  cv::copyMakeBorder(source, square, g.pad_top, g.side - image.rows - g.pad_top, g.pad_left,
                     g.side - image.cols - g.pad_left, cv::BORDER_CONSTANT, cv::Scalar(0));
  if (g.side == image_size) return square;
  cv::Mat out;
  cv::resize(square, out, cv::Size(image_size, image_size), 0, 0,
             g.side > image_size ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

cv::Mat square_resize_labels(const cv::Mat& labels, int image_size) {
  CV_Assert(labels.type() == CV_8UC1);
  const ImageGeometry g = square_geometry(labels.rows, labels.cols, image_size);
  // Written out rather than cv::resize so that labels_to_native is its exact inverse.
  const std::vector<int> map = nearest_map(image_size, g.side);
  cv::Mat out(image_size, image_size, CV_8UC1);
  for (int y = 0; y < image_size; ++y) {
    const int sy = map[static_cast<std::size_t>(y)] - g.pad_top;
    auto* row = out.ptr<std::uint8_t>(y);
    if (sy < 0 || sy >= labels.rows) {
      std::fill(row, row + image_size, 0);
      continue;
    }
    const auto* source = labels.ptr<std::uint8_t>(sy);
    for (int x = 0; x < image_size; ++x) {
      const int sx = map[static_cast<std::size_t>(x)] - g.pad_left;
      row[x] = (sx < 0 || sx >= labels.cols) ? 0 : source[sx];
    }
  }
  return out;
}

cv::Mat labels_to_native(const cv::Mat& labels, const ImageGeometry& geometry) {
  CV_Assert(labels.type() == CV_8UC1 && labels.rows == labels.cols);
  const int size = labels.rows;
  auto coordinate = [&](int native, int pad) {
    const auto c = static_cast<int>(std::floor((native + pad + 0.5) * size / geometry.side));
    return std::clamp(c, 0, size - 1);
  };
  cv::Mat out(geometry.height, geometry.width, CV_8UC1);
  std::vector<int> columns(static_cast<std::size_t>(geometry.width));
  for (int x = 0; x < geometry.width; ++x)
    columns[static_cast<std::size_t>(x)] = coordinate(x, geometry.pad_left);
  for (int y = 0; y < geometry.height; ++y) {
    const auto* source = labels.ptr<std::uint8_t>(coordinate(y, geometry.pad_top));
    auto* row = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < geometry.width; ++x) row[x] = source[columns[static_cast<std::size_t>(x)]];
  }
  return out;
}

}  // namespace cltci::data
