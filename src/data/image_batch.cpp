#include "cltci/data/image_batch.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

namespace cltci::data {

at::Tensor images_to_batch(const std::vector<cv::Mat>& images) {
  TORCH_CHECK(!images.empty(), "images_to_batch: no images");
  std::vector<at::Tensor> planes;
  planes.reserve(images.size());
  for (const auto& image : images) {
    TORCH_CHECK(image.channels() == 1 && image.size() == images.front().size(),
                "images_to_batch: images must be single-channel and of one size");
    cv::Mat scaled;
    const double scale = image.depth() == CV_8U    ? 1.0 / 255.0
                         : image.depth() == CV_16U ? 1.0 / 65535.0
                                                   : 1.0;
    image.convertTo(scaled, CV_32F, scale);
    planes.push_back(
        torch::from_blob(scaled.data, {1, scaled.rows, scaled.cols}, torch::kFloat32).clone());
  }
  return torch::stack(planes);
}

}  // namespace cltci::data
