#include "cltci/data/image_io.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/file_check.h"

// Set by whoever compiles this file (src/CMakeLists.txt, fuzz/CMakeLists.txt): undefined would
// silently read as "no codecs".
#ifndef CLTCI_WITH_IMAGE_CODECS
#error "CLTCI_WITH_IMAGE_CODECS must be defined (0 or 1) by the build"
#endif
#if CLTCI_WITH_IMAGE_CODECS
#include <opencv2/imgcodecs.hpp>
#endif
#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace cltci::data {
namespace {

std::string quoted(const std::filesystem::path& file) { return "'" + file.string() + "'"; }

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw common::InputError(quoted(file) + ": " + why);
}

std::string lower_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::uint32_t big_endian32(const std::string& bytes, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

// libpng, as OpenCV 4.6 drives it, hands back a partly grey image (with only a warning) when the
// data stops early, so decoding succeeding proves nothing: walk the chunk list instead and insist
// on reaching IEND inside the file.
void check_png_structure(const std::string& bytes, const std::filesystem::path& file) {
  std::size_t at = 8;
  while (at + 12 <= bytes.size()) {
    const std::uint64_t length = big_endian32(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (at + 12 + length > bytes.size()) break;
    if (type == "IEND") return;
    at += 12 + length;
  }
  fail(file, "truncated PNG (no IEND chunk within " + std::to_string(bytes.size()) + " bytes)");
}

// libjpeg, likewise, pads a truncated scan with grey and only warns; a complete JPEG ends with
// the EOI marker (FF D9), possibly followed by a little padding.
void check_jpeg_structure(const std::string& bytes, const std::filesystem::path& file) {
  const std::size_t tail = std::min<std::size_t>(bytes.size(), 256);
  for (std::size_t i = bytes.size() - tail; i + 1 < bytes.size(); ++i) {
    if (static_cast<unsigned char>(bytes[i]) == 0xFF &&
        static_cast<unsigned char>(bytes[i + 1]) == 0xD9) {
      return;
    }
  }
  fail(file, "truncated JPEG (no end-of-image marker)");
}

ImageFormat format_from_magic(const std::string& head) {
  const auto starts = [&](std::string_view magic) {
    return head.size() >= magic.size() && std::string_view(head).substr(0, magic.size()) == magic;
  };
  if (starts("\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (starts("\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4))) {
    return ImageFormat::kTiff;
  }
  if (starts("GIF87a") || starts("GIF89a")) return ImageFormat::kGif;
  if (head.size() >= 132 && head.compare(128, 4, "DICM") == 0) return ImageFormat::kDicom;
  if (starts("BM")) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

std::string read_all(const std::filesystem::path& file) {
  const std::string why = common::not_a_regular_file(file);
  if (!why.empty()) fail(file, why);
  return common::read_file(file);
}

#if CLTCI_WITH_IMAGE_CODECS
constexpr int kGrayAnyDepth = cv::IMREAD_ANYDEPTH | cv::IMREAD_GRAYSCALE;
#else
constexpr int kGrayAnyDepth = 0;  // no decoder to pass it to
#endif

// OpenCV formats: decoded from memory so the structural checks and the decoder see the same bytes.
cv::Mat decode_with_opencv(const std::filesystem::path& file, ImageFormat format, int flags) {
  const std::string bytes = read_all(file);
  if (format == ImageFormat::kPng) check_png_structure(bytes, file);
  if (format == ImageFormat::kJpeg) check_jpeg_structure(bytes, file);
#if CLTCI_WITH_IMAGE_CODECS
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    fail(file, std::string("cannot decode: ") + e.what());
  }
  if (decoded.empty()) fail(file, "cannot decode (corrupt or unsupported image)");
  return decoded;
#else
  static_cast<void>(flags);
  fail(file,
       "this build has no PNG/JPEG/TIFF/BMP decoder (CLTCI_IMAGE_CODECS=OFF, the GPU-only "
       "variant): build the cache with a full build (prepare) and train from it");
#endif
}

}  // namespace

bool image_codecs_available() { return CLTCI_WITH_IMAGE_CODECS != 0; }

ImageFormat detect_image_format(const std::filesystem::path& file) {
  // A directory opens as a stream on Linux and would read as an empty, unknown file.
  const std::string why = common::not_a_regular_file(file);
  if (!why.empty()) fail(file, why);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "not readable");
  std::string head(132, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const ImageFormat by_magic = format_from_magic(head);
  if (by_magic != ImageFormat::kUnknown) return by_magic;
  const std::string ext = lower_extension(file);
  if (ext == ".img") return ImageFormat::kJsrt;
  if (ext == ".dcm" || ext == ".dicom") return ImageFormat::kDicom;
  return ImageFormat::kUnknown;
}

DecodedImage read_image(const std::filesystem::path& file) {
  const ImageFormat format = detect_image_format(file);
  switch (format) {
    case ImageFormat::kJsrt:
      return read_jsrt_img(file);
    case ImageFormat::kDicom:
      return read_dicom(file);
    case ImageFormat::kGif: {
      DecodedImage image;
      read_gif_gray(file).convertTo(image.pixels, CV_32F, 1.0 / 255.0);
      return image;
    }
    case ImageFormat::kUnknown:
      fail(file, "unknown image format (expected PNG, JPEG, TIFF, BMP, GIF, DICOM or JSRT .IMG)");
    default:
      break;
  }
  const cv::Mat decoded = decode_with_opencv(file, format, kGrayAnyDepth);
  DecodedImage image;
  switch (decoded.depth()) {
    case CV_8U:
      decoded.convertTo(image.pixels, CV_32F, 1.0 / 255.0);
      image.bits = 8;
      break;
    case CV_16U:
      decoded.convertTo(image.pixels, CV_32F, 1.0 / 65535.0);
      image.bits = 16;
      break;
    default: {
      // Float or signed TIFFs carry no agreed range: stretch what is there.
      double low = 0.0, high = 0.0;
      cv::minMaxLoc(decoded, &low, &high);
      const double scale = high > low ? 1.0 / (high - low) : 0.0;
      decoded.convertTo(image.pixels, CV_32F, scale, -low * scale);
      image.bits = 32;
    }
  }
  return image;
}

cv::Mat read_mask(const std::filesystem::path& file) {
  const ImageFormat format = detect_image_format(file);
  if (format == ImageFormat::kGif) return read_gif_gray(file);
  if (format == ImageFormat::kJsrt || format == ImageFormat::kDicom ||
      format == ImageFormat::kUnknown) {
    fail(file, "not a mask image (expected an 8-bit PNG, GIF, TIFF or BMP)");
  }
  cv::Mat decoded = decode_with_opencv(file, format, kGrayAnyDepth);
  if (decoded.depth() != CV_8U) {
    fail(file, "mask must be 8-bit (found " + std::to_string(decoded.elemSize1() * 8) + "-bit)");
  }
  return decoded;
}

cv::Size read_image_size(const std::filesystem::path& file) {
  const ImageFormat format = detect_image_format(file);
  if (format == ImageFormat::kJsrt) return {2048, 2048};
  if (format == ImageFormat::kPng) {
    std::ifstream in(file, std::ios::binary);
    std::string head(24, '\0');
    in.read(head.data(), 24);
    if (in.gcount() == 24 && head.compare(12, 4, "IHDR") == 0) {
      return {static_cast<int>(big_endian32(head, 16)), static_cast<int>(big_endian32(head, 20))};
    }
    fail(file, "PNG without an IHDR header");
  }
  return read_image(file).pixels.size();
}

}  // namespace cltci::data
