// JSRT raw `.IMG` (datasets.md §1): no header, 2048x2048 big-endian unsigned 16-bit samples of
// 12-bit values, high where the film is dark.
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace cltci::data {
namespace {

constexpr int kSide = 2048;
constexpr std::uintmax_t kBytes = std::uintmax_t{kSide} * kSide * 2;
constexpr int kMaxValue = 4095;

}  // namespace

DecodedImage read_jsrt_img(const std::filesystem::path& file) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  if (error) throw common::InputError("'" + file.string() + "': no such file");
  // The size is the only format check raw data allows; a cropped or 8-bit export must not be
  // silently reinterpreted.
  if (size != kBytes) {
    throw common::InputError("'" + file.string() + "': a JSRT .IMG must be " +
                             std::to_string(kBytes) +
                             " bytes (2048x2048 big-endian 16-bit), found " + std::to_string(size));
  }
  const std::string bytes = common::read_file(file);
  DecodedImage image;
  image.bits = 12;
  image.pixels.create(kSide, kSide, CV_32FC1);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  for (int y = 0; y < kSide; ++y) {
    auto* row = image.pixels.ptr<float>(y);
    for (int x = 0; x < kSide; ++x) {
      const std::size_t at = (static_cast<std::size_t>(y) * kSide + x) * 2;
      const int stored = std::min((data[at] << 8) | data[at + 1], kMaxValue);
      row[x] = static_cast<float>(kMaxValue - stored) / static_cast<float>(kMaxValue);
    }
  }
  return image;
}

void write_jsrt_img(const std::filesystem::path& file, const cv::Mat& stored) {
  if (stored.type() != CV_16UC1 || stored.rows != kSide || stored.cols != kSide) {
    throw common::Error("write_jsrt_img '" + file.string() + "': need a 2048x2048 CV_16UC1 image");
  }
  std::string bytes(kBytes, '\0');
  for (int y = 0; y < kSide; ++y) {
    const auto* row = stored.ptr<std::uint16_t>(y);
    for (int x = 0; x < kSide; ++x) {
      const std::size_t at = (static_cast<std::size_t>(y) * kSide + x) * 2;
      bytes[at] = static_cast<char>(row[x] >> 8);
      bytes[at + 1] = static_cast<char>(row[x] & 0xFF);
    }
  }
  common::write_file_atomic(file, bytes);
}

}  // namespace cltci::data
