// Cached square images as a network input batch, scaled exactly as the loader scales them in
// training (8-bit / 255, 16-bit / 65535), for every place that runs a network on un-augmented
// images: evaluation, probes, embeddings.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <vector>

namespace cltci::data {

/// Single-channel images of one size (CV_8U, CV_16U or CV_32F) -> [B, 1, H, W] float32 on the
/// CPU, values in [0, 1].
at::Tensor images_to_batch(const std::vector<cv::Mat>& images);

}  // namespace cltci::data
