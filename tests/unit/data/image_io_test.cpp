#include "cltci/data/image_io.h"

#include "cltci/build_info.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/dicom_tags.h"
#include "cltci/data/image_writers.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace cltci::data {
namespace {

using testing::TempDir;

std::string input_error_text(const std::function<void()>& action) {
  try {
    action();
  } catch (const common::InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

void truncate_file(const std::filesystem::path& file, std::uintmax_t drop) {
  std::string bytes = common::read_file(file);
  bytes.resize(bytes.size() - drop);
  common::write_file_atomic(file, bytes);
}

TEST(ImageIo, SixteenBitPngKeepsItsDepth) {
  TempDir dir;
  cv::Mat stored = cv::Mat::zeros(3, 4, CV_16UC1);
  stored.at<std::uint16_t>(0, 0) = 65535;
  stored.at<std::uint16_t>(1, 2) = 13107;  // 0.2 of full scale
  write_png(dir / "x.png", stored);
  EXPECT_EQ(detect_image_format(dir / "x.png"), ImageFormat::kPng);
  const DecodedImage image = read_image(dir / "x.png");
  EXPECT_EQ(image.bits, 16);
  ASSERT_EQ(image.pixels.type(), CV_32FC1);
  EXPECT_EQ(image.pixels.size(), cv::Size(4, 3));
  EXPECT_FLOAT_EQ(image.pixels.at<float>(0, 0), 1.0F);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(1, 2), 0.2F);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(2, 3), 0.0F);
  EXPECT_EQ(read_image_size(dir / "x.png"), cv::Size(4, 3));
}

TEST(ImageIo, EightBitPngScalesBy255) {
  TempDir dir;
  cv::Mat stored(2, 2, CV_8UC1, cv::Scalar(51));
  write_png(dir / "x.png", stored);
  const DecodedImage image = read_image(dir / "x.png");
  EXPECT_EQ(image.bits, 8);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(1, 1), 0.2F);
}

TEST(ImageIo, TruncatedPngIsAnErrorNamingTheFile) {
  TempDir dir;
  cv::Mat noise(64, 64, CV_8UC1);
  cv::randu(noise, 0, 255);
  write_png(dir / "cut.png", noise);
  truncate_file(dir / "cut.png", 40);
  const auto size = std::filesystem::file_size(dir / "cut.png");
  EXPECT_EQ(input_error_text([&] { read_image(dir / "cut.png"); }),
            "'" + (dir / "cut.png").string() + "': truncated PNG (no IEND chunk within " +
                std::to_string(size) + " bytes)");
}

TEST(ImageIo, MissingFileIsAnErrorNamingIt) {
  TempDir dir;
  EXPECT_EQ(input_error_text([&] { read_image(dir / "none.png"); }),
            "'" + (dir / "none.png").string() + "': does not exist");
}

TEST(ImageIo, ADirectoryFifoOrSymlinkLoopIsNamedForWhatItIs) {
  TempDir dir;
  std::filesystem::create_directories(dir / "folder.png");
  EXPECT_EQ(input_error_text([&] { read_image(dir / "folder.png"); }),
            "'" + (dir / "folder.png").string() + "': is a directory");
  ASSERT_EQ(::mkfifo((dir / "pipe.png").c_str(), 0600), 0);
  EXPECT_EQ(input_error_text([&] { read_mask(dir / "pipe.png"); }),
            "'" + (dir / "pipe.png").string() + "': is not a regular file");
  std::filesystem::create_symlink(dir / "b.png", dir / "a.png");
  std::filesystem::create_symlink(dir / "a.png", dir / "b.png");
  EXPECT_EQ(input_error_text([&] { read_image(dir / "a.png"); }),
            "'" + (dir / "a.png").string() + "': cannot be resolved (symlink loop?)");
}

TEST(ImageIo, MagicBytesWinOverTheExtension) {
  TempDir dir;
  write_png(dir / "really_png.dcm", cv::Mat(2, 2, CV_8UC1, cv::Scalar(255)));
  EXPECT_EQ(detect_image_format(dir / "really_png.dcm"), ImageFormat::kPng);
  EXPECT_FLOAT_EQ(read_image(dir / "really_png.dcm").pixels.at<float>(0, 0), 1.0F);
}

TEST(ImageIo, JpegDecodesAndATruncatedOneIsRejected) {
  TempDir dir;
  cv::Mat flat(32, 32, CV_8UC1, cv::Scalar(128));
  std::vector<unsigned char> bytes;
  ASSERT_TRUE(cv::imencode(".jpg", flat, bytes));
  common::write_file_atomic(dir / "a.jpg",
                            std::string(reinterpret_cast<char*>(bytes.data()), bytes.size()));
  EXPECT_NEAR(read_image(dir / "a.jpg").pixels.at<float>(16, 16), 128.0F / 255.0F, 1.0F / 255.0F);
  truncate_file(dir / "a.jpg", 20);
  EXPECT_EQ(input_error_text([&] { read_image(dir / "a.jpg"); }),
            "'" + (dir / "a.jpg").string() + "': truncated JPEG (no end-of-image marker)");
}

TEST(ImageIo, JsrtImgIsBigEndianAndShownInverted) {
  TempDir dir;
  cv::Mat stored(2048, 2048, CV_16UC1, cv::Scalar(4095));
  stored.at<std::uint16_t>(5, 7) = 0x0ABC;  // 2748: the byte order matters
  stored.at<std::uint16_t>(6, 7) = 0;
  stored.at<std::uint16_t>(7, 7) = 5000;  // beyond 12 bits: clipped to 4095
  write_jsrt_img(dir / "JPCLN001.IMG", stored);
  EXPECT_EQ(std::filesystem::file_size(dir / "JPCLN001.IMG"), 8388608U);
  // The first two bytes on disk are the big-endian 4095.
  EXPECT_EQ(common::read_file(dir / "JPCLN001.IMG").substr(0, 2), std::string("\x0F\xFF", 2));
  const DecodedImage image = read_image(dir / "JPCLN001.IMG");
  EXPECT_EQ(image.bits, 12);
  EXPECT_EQ(image.pixels.size(), cv::Size(2048, 2048));
  EXPECT_FLOAT_EQ(image.pixels.at<float>(5, 7), (4095.0F - 2748.0F) / 4095.0F);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(6, 7), 1.0F);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(7, 7), 0.0F);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(0, 0), 0.0F);
}

TEST(ImageIo, JsrtImgOfTheWrongSizeIsRejected) {
  TempDir dir;
  common::write_file_atomic(dir / "JPCNN001.IMG", std::string(2048 * 2048, '\0'));
  EXPECT_EQ(input_error_text([&] { read_image(dir / "JPCNN001.IMG"); }),
            "'" + (dir / "JPCNN001.IMG").string() +
                "': a JSRT .IMG must be 8388608 bytes (2048x2048 big-endian 16-bit), found "
                "4194304");
}

TEST(ImageIo, GifMaskRoundTripsThroughGiflib) {
  TempDir dir;
  cv::Mat mask = cv::Mat::zeros(40, 60, CV_8UC1);
  cv::ellipse(mask, {20, 20}, {8, 14}, 0, 0, 360, cv::Scalar(1), cv::FILLED);
  write_gif_mask(dir / "lung.gif", mask);
  EXPECT_EQ(detect_image_format(dir / "lung.gif"), ImageFormat::kGif);
  const cv::Mat read = read_mask(dir / "lung.gif");
  ASSERT_EQ(read.size(), mask.size());
  EXPECT_EQ(cv::countNonZero(read != (mask * 255)), 0);
  EXPECT_EQ(read.at<unsigned char>(20, 20), 255);
  EXPECT_EQ(read.at<unsigned char>(0, 0), 0);
  EXPECT_FLOAT_EQ(read_image(dir / "lung.gif").pixels.at<float>(20, 20), 1.0F);
}

TEST(ImageIo, TruncatedGifIsRejected) {
  TempDir dir;
  cv::Mat mask(64, 64, CV_8UC1);
  cv::randu(mask, 0, 2);
  write_gif_mask(dir / "cut.gif", mask);
  truncate_file(dir / "cut.gif", 60);
  const std::string message = input_error_text([&] { read_mask(dir / "cut.gif"); });
  EXPECT_EQ(message.rfind("'" + (dir / "cut.gif").string() + "': corrupt or truncated GIF", 0), 0U)
      << message;
}

#if CLTCI_WITH_DICOM

// Stored values chosen so that slope 2 / intercept -100 and the FIRST window (centre 1000,
// width 400) give known outputs, while the second window (2000, 800) would give others.
cv::Mat dicom_test_pixels() {
  cv::Mat stored(4, 8, CV_16UC1, cv::Scalar(0));
  stored.at<std::uint16_t>(0, 1) = 700;  // modality 1300: above the first window
  stored.at<std::uint16_t>(0, 2) = 550;  // modality 1000: the centre
  stored.at<std::uint16_t>(0, 3) = 600;  // modality 1100: inside the first, below the second
  return stored;
}

double linear_window(double x, double centre, double width) {
  // PS3.3 C.11.2.1.2 LINEAR
  if (x <= centre - 0.5 - (width - 1) / 2) return 0.0;
  if (x > centre - 0.5 + (width - 1) / 2) return 1.0;
  return (x - (centre - 0.5)) / (width - 1) + 0.5;
}

TEST(ImageIo, DicomMonochrome1AppliesSlopeFirstWindowAndOneInversion) {
  TempDir dir;
  DicomWriteOptions options;
  options.monochrome1 = true;
  options.rescale_slope = 2.0;
  options.rescale_intercept = -100.0;
  options.window_centers = {1000.0, 2000.0};
  options.window_widths = {400.0, 800.0};
  options.patient_id = "P1";
  write_dicom(dir / "m1.dcm", dicom_test_pixels(), options);
  EXPECT_EQ(detect_image_format(dir / "m1.dcm"), ImageFormat::kDicom);
  const DecodedImage image = read_image(dir / "m1.dcm");
  EXPECT_EQ(image.bits, 12);
  ASSERT_EQ(image.pixels.size(), cv::Size(8, 4));
  const float tolerance = 2e-3F;
  // MONOCHROME1: the lowest value is white.
  EXPECT_NEAR(image.pixels.at<float>(0, 0), 1.0F, tolerance);
  EXPECT_NEAR(image.pixels.at<float>(0, 1), 0.0F, tolerance);
  EXPECT_NEAR(image.pixels.at<float>(0, 2), 1.0 - linear_window(1000, 1000, 400), tolerance);
  EXPECT_NEAR(image.pixels.at<float>(0, 3), 1.0 - linear_window(1100, 1000, 400), tolerance);
  EXPECT_NEAR(image.pixels.at<float>(0, 3), 0.2481F, tolerance);
}

TEST(ImageIo, DicomMonochrome2IsNotInverted) {
  TempDir dir;
  DicomWriteOptions options;
  options.rescale_slope = 2.0;
  options.rescale_intercept = -100.0;
  options.window_centers = {1000.0, 2000.0};
  options.window_widths = {400.0, 800.0};
  write_dicom(dir / "m2.dcm", dicom_test_pixels(), options);
  const DecodedImage image = read_image(dir / "m2.dcm");
  EXPECT_NEAR(image.pixels.at<float>(0, 0), 0.0F, 2e-3F);
  EXPECT_NEAR(image.pixels.at<float>(0, 1), 1.0F, 2e-3F);
  EXPECT_NEAR(image.pixels.at<float>(0, 3), linear_window(1100, 1000, 400), 2e-3F);
}

TEST(ImageIo, DicomWithoutWindowUsesTheValueRange) {
  TempDir dir;
  cv::Mat stored(2, 2, CV_16UC1, cv::Scalar(100));
  stored.at<std::uint16_t>(0, 1) = 1100;
  stored.at<std::uint16_t>(1, 1) = 600;
  write_dicom(dir / "plain.dcm", stored, {});
  const DecodedImage image = read_image(dir / "plain.dcm");
  EXPECT_NEAR(image.pixels.at<float>(0, 0), 0.0F, 2e-3F);
  EXPECT_NEAR(image.pixels.at<float>(0, 1), 1.0F, 2e-3F);
  EXPECT_NEAR(image.pixels.at<float>(1, 1), 0.5F, 2e-3F);
}

TEST(ImageIo, DicomJpegLsDecodesThroughTheRegisteredCodec) {
  TempDir dir;
  DicomWriteOptions options;
  options.monochrome1 = true;
  options.rescale_slope = 2.0;
  options.rescale_intercept = -100.0;
  options.window_centers = {1000.0, 2000.0};
  options.window_widths = {400.0, 800.0};
  write_dicom(dir / "plain.dcm", dicom_test_pixels(), options);
  options.jpeg_ls_lossless = true;
  write_dicom(dir / "jls.dcm", dicom_test_pixels(), options);
  // The compressed file really is compressed (no raw 16-bit copy of the pixels inside).
  EXPECT_NE(common::read_file(dir / "jls.dcm").find("1.2.840.10008.1.2.4.80"), std::string::npos);
  const cv::Mat plain = read_image(dir / "plain.dcm").pixels;
  const cv::Mat jls = read_image(dir / "jls.dcm").pixels;
  EXPECT_EQ(cv::norm(plain, jls, cv::NORM_INF), 0.0);
}

TEST(ImageIo, TruncatedDicomIsRejected) {
  TempDir dir;
  write_dicom(dir / "cut.dcm", cv::Mat(64, 64, CV_16UC1, cv::Scalar(7)), {});
  truncate_file(dir / "cut.dcm", 4000);
  const std::string message = input_error_text([&] { read_image(dir / "cut.dcm"); });
  EXPECT_EQ(message.rfind("'" + (dir / "cut.dcm").string() + "': ", 0), 0U) << message;
}

TEST(ImageIo, DicomTagsPickTheBestTimeAndTheView) {
  TempDir dir;
  DicomWriteOptions options;
  options.patient_id = "PAT 7";
  options.study_date = "20200102";
  options.study_time = "0930";
  options.view_position = "PA";
  write_dicom(dir / "a.dcm", cv::Mat(2, 2, CV_16UC1, cv::Scalar(1)), options);
  DicomTags tags = read_dicom_tags(dir / "a.dcm");
  EXPECT_EQ(tags.patient_id, "PAT 7");
  EXPECT_EQ(tags.datetime, "2020-01-02T09:30:00");
  EXPECT_EQ(tags.datetime_source, "StudyDate/Time");
  EXPECT_EQ(dicom_view(tags), "PA");
  EXPECT_EQ(tags.modality, "DX");

  options.acquisition_date = "20200103";
  options.acquisition_time = "101112.5";
  options.view_position = "";
  write_dicom(dir / "b.dcm", cv::Mat(2, 2, CV_16UC1, cv::Scalar(1)), options);
  tags = read_dicom_tags(dir / "b.dcm");
  EXPECT_EQ(tags.datetime, "2020-01-03T10:11:12.5");
  EXPECT_EQ(tags.datetime_source, "AcquisitionDate/Time");
  EXPECT_EQ(dicom_view(tags), "");
}

#endif  // CLTCI_WITH_DICOM

TEST(ImageIo, DicomDateTimeToIso) {
  EXPECT_EQ(dicom_datetime_iso("20240229", "235959.123456"), "2024-02-29T23:59:59.123456");
  EXPECT_EQ(dicom_datetime_iso("20240229", "08"), "2024-02-29T08:00:00");
  EXPECT_EQ(dicom_datetime_iso("20240229", "08:30:01"), "2024-02-29T08:30:01");
  EXPECT_EQ(dicom_datetime_iso("20240229", ""), "2024-02-29T00:00:00");
  EXPECT_EQ(dicom_datetime_iso("20240229083001.25+0100", ""), "2024-02-29T08:30:01.25");
  EXPECT_EQ(dicom_datetime_iso("2024", "0830"), "");
  EXPECT_EQ(dicom_datetime_iso("20241301", "0830"), "");
  DicomTags tags;
  tags.view_code_meaning = "antero-posterior";
  EXPECT_EQ(dicom_view(tags), "AP");
  tags.view_position = "LATERAL";
  EXPECT_EQ(dicom_view(tags), "LAT");
}

}  // namespace
}  // namespace cltci::data
