// GIF through giflib: Debian 12's OpenCV 4.6 has no GIF decoder (datasets.md §2), and the SCR
// lung masks ship as two-colour GIFs.
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"

#include <gif_lib.h>
#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cltci::data {
namespace {

std::string gif_error(int code) {
  const char* text = GifErrorString(code);
  return text ? text : "error " + std::to_string(code);
}

struct GifReaderCloser {
  void operator()(GifFileType* gif) const {
    int ignored = 0;
    DGifCloseFile(gif, &ignored);
  }
};

}  // namespace

cv::Mat read_gif_gray(const std::filesystem::path& file) {
  const auto fail = [&](const std::string& why) {
    throw common::InputError("'" + file.string() + "': " + why);
  };
  int error = 0;
  std::unique_ptr<GifFileType, GifReaderCloser> gif(DGifOpenFileName(file.c_str(), &error));
  if (!gif) fail("cannot open GIF: " + gif_error(error));
  // DGifSlurp de-interlaces into RasterBits; a truncated file fails here with a read error.
  if (DGifSlurp(gif.get()) != GIF_OK) fail("corrupt or truncated GIF: " + gif_error(gif->Error));
  if (gif->ImageCount < 1) fail("GIF without an image");
  // The logical screen is allocated whole, and its size is whatever the header claims (a 54-byte
  // file found by the fuzzer claims 59000 x 59000). 2^27 pixels is ~30 times the largest X-ray.
  constexpr long long kMaxScreenPixels = 1LL << 27;
  if (static_cast<long long>(gif->SWidth) * gif->SHeight > kMaxScreenPixels) {
    fail("GIF screen of " + std::to_string(gif->SWidth) + " x " + std::to_string(gif->SHeight) +
         " pixels is larger than any mask (at most 2^27 pixels)");
  }
  const SavedImage& frame = gif->SavedImages[0];
  const GifImageDesc& desc = frame.ImageDesc;
  const ColorMapObject* palette = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
  if (!palette) fail("GIF without a palette");
  if (desc.Left < 0 || desc.Top < 0 || desc.Width <= 0 || desc.Height <= 0 ||
      desc.Left + desc.Width > gif->SWidth || desc.Top + desc.Height > gif->SHeight) {
    fail("GIF frame lies outside the logical screen");
  }
  std::vector<unsigned char> grey(static_cast<std::size_t>(palette->ColorCount));
  for (int i = 0; i < palette->ColorCount; ++i) {
    const GifColorType& c = palette->Colors[i];
    grey[static_cast<std::size_t>(i)] =
        cv::saturate_cast<unsigned char>(0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue);
  }
  cv::Mat image = cv::Mat::zeros(gif->SHeight, gif->SWidth, CV_8UC1);
  for (int y = 0; y < desc.Height; ++y) {
    auto* row = image.ptr<unsigned char>(desc.Top + y) + desc.Left;
    const GifByteType* indices = frame.RasterBits + static_cast<std::size_t>(y) * desc.Width;
    for (int x = 0; x < desc.Width; ++x) {
      if (indices[x] >= palette->ColorCount) fail("GIF pixel index outside its palette");
      row[x] = grey[indices[x]];
    }
  }
  return image;
}

void write_gif_mask(const std::filesystem::path& file, const cv::Mat& mask) {
  if (mask.empty() || mask.type() != CV_8UC1) {
    throw common::Error("write_gif_mask '" + file.string() + "': need a CV_8UC1 mask");
  }
  common::write_file_atomic(file, [&](const std::filesystem::path& temporary) {
    int error = 0;
    GifFileType* gif = EGifOpenFileName(temporary.c_str(), false, &error);
    if (!gif) throw common::Error("cannot create GIF '" + file.string() + "': " + gif_error(error));
    const GifColorType colours[2] = {{0, 0, 0}, {255, 255, 255}};
    ColorMapObject* palette = GifMakeMapObject(2, colours);
    bool ok = palette && EGifPutScreenDesc(gif, mask.cols, mask.rows, 1, 0, palette) == GIF_OK &&
              EGifPutImageDesc(gif, 0, 0, mask.cols, mask.rows, false, nullptr) == GIF_OK;
    std::vector<GifPixelType> line(static_cast<std::size_t>(mask.cols));
    for (int y = 0; ok && y < mask.rows; ++y) {
      const auto* row = mask.ptr<unsigned char>(y);
      for (int x = 0; x < mask.cols; ++x) line[static_cast<std::size_t>(x)] = row[x] ? 1 : 0;
      ok = EGifPutLine(gif, line.data(), mask.cols) == GIF_OK;
    }
    const int write_error = gif->Error;
    GifFreeMapObject(palette);
    int close_error = 0;
    const bool closed = EGifCloseFile(gif, &close_error) == GIF_OK;
    if (!ok || !closed) {
      throw common::Error("cannot write GIF '" + file.string() +
                          "': " + gif_error(ok ? close_error : write_error));
    }
  });
}

}  // namespace cltci::data
