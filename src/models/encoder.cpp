#include "cltci/models/encoder.h"

namespace cltci::models {

void check_image_batch(const torch::Tensor& x,
                       int64_t in_channels,
                       int64_t multiple,
                       const char* who) {
  TORCH_CHECK(x.dim() == 4, who, " expects an N×C×H×W batch, got sizes ", x.sizes());
  TORCH_CHECK(x.size(1) == in_channels, who, " expects ", in_channels, " input channels, got ",
              x.size(1), " (sizes ", x.sizes(), ")");
  const int64_t h = x.size(2);
  const int64_t w = x.size(3);
  if (h % multiple != 0 || w % multiple != 0) {
    auto up = [multiple](int64_t v) { return (v + multiple - 1) / multiple * multiple; };
    TORCH_CHECK(false, who, " needs height and width divisible by ", multiple,
                " (its output stride), got ", h, "×", w, "; pad or resize to e.g. ", up(h), "×",
                up(w));
  }
}

}  // namespace cltci::models
