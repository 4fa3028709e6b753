// data::image_codecs_available says what the build can do, in both variants: a full build writes
// a PNG and decodes it to the same pixels; the GPU-only variant (CLTCI_IMAGE_CODECS=OFF) refuses
// both with an InputError naming the file and the build option, and writes nothing.
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace cltci::data {
namespace {

/// A 16-bit X-ray-like ramp with a bright square: exact after a round trip through PNG.
cv::Mat ramp16() {
  cv::Mat image(12, 20, CV_16UC1);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      image.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(1000 * x + 37 * y);
    }
  }
  image(cv::Rect(4, 3, 5, 5)).setTo(65535);
  return image;
}

TEST(ImageCodecs, AvailabilityIsWhatTheBuildDoes) {
  testing::TempDir dir;
  const auto file = dir / "ramp.png";
  const cv::Mat image = ramp16();
  if (image_codecs_available()) {
    write_png(file, image);
    const DecodedImage decoded = read_image(file);
    EXPECT_EQ(decoded.bits, 16);
    ASSERT_EQ(decoded.pixels.size(), image.size());
    // read_image scales to [0, 1]: value / 65535.
    EXPECT_FLOAT_EQ(decoded.pixels.at<float>(0, 0), 0.0F);
    EXPECT_FLOAT_EQ(decoded.pixels.at<float>(2, 7), (1000.0F * 7 + 37.0F * 2) / 65535.0F);
    EXPECT_FLOAT_EQ(decoded.pixels.at<float>(5, 6), 1.0F);
    return;
  }
  try {
    write_png(file, image);
    FAIL() << "write_png wrote a PNG in a build without image codecs";
  } catch (const common::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("CLTCI_IMAGE_CODECS=OFF"), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(ImageCodecs, AHandMadePngDecodesOrIsRefusedNamingTheFile) {
  // A 2x1 8-bit grey PNG with pixels 0 and 255, made byte by byte (zlib stream and CRCs from
  // Python's zlib), so that the variant without codecs has a valid PNG to refuse.
  constexpr std::array<unsigned char, 68> kPng{
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
      0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00,
      0x00, 0xd1, 0x49, 0x20, 0x56, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
      0xda, 0x63, 0x60, 0xf8, 0x0f, 0x00, 0x01, 0x02, 0x01, 0x00, 0xd1, 0x1a, 0xcb, 0x8f,
      0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  testing::TempDir dir;
  const auto file = dir / "two.png";
  common::write_file_atomic(
      file, std::string_view(reinterpret_cast<const char*>(kPng.data()), kPng.size()));
  EXPECT_EQ(detect_image_format(file), ImageFormat::kPng);
  EXPECT_EQ(read_image_size(file), cv::Size(2, 1));  // from the header: no decoder needed
  if (image_codecs_available()) {
    const DecodedImage decoded = read_image(file);
    EXPECT_EQ(decoded.bits, 8);
    ASSERT_EQ(decoded.pixels.size(), cv::Size(2, 1));
    EXPECT_FLOAT_EQ(decoded.pixels.at<float>(0, 0), 0.0F);
    EXPECT_FLOAT_EQ(decoded.pixels.at<float>(0, 1), 1.0F);
    return;
  }
  try {
    read_image(file);
    FAIL() << "read_image decoded a PNG in a build without image codecs";
  } catch (const common::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("CLTCI_IMAGE_CODECS=OFF"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace cltci::data
