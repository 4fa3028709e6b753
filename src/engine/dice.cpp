#include "cltci/engine/dice.h"

#include <torch/torch.h>

namespace cltci::engine {

ClassCounts& ClassCounts::operator+=(const ClassCounts& other) {
  tp += other.tp;
  fp += other.fp;
  fn += other.fn;
  return *this;
}

double dice(const ClassCounts& counts) {
  const std::int64_t denominator = 2 * counts.tp + counts.fp + counts.fn;
  if (denominator == 0) return 1.0;
  return 2.0 * static_cast<double>(counts.tp) / static_cast<double>(denominator);
}

std::vector<ClassCounts> count_classes(const torch::Tensor& prediction,
                                       const torch::Tensor& target,
                                       std::int64_t classes,
                                       std::int64_t ignore_index) {
  TORCH_CHECK(prediction.sizes() == target.sizes(), "Dice: prediction ", prediction.sizes(),
              " and target ", target.sizes(), " differ in shape");
  TORCH_CHECK(classes >= 2, "Dice: needs at least 2 classes, got ", classes);
  const auto pred = prediction.to(torch::kCPU, torch::kLong).flatten();
  const auto truth = target.to(torch::kCPU, torch::kLong).flatten();
  const auto valid = truth != ignore_index;
  std::vector<ClassCounts> counts(static_cast<std::size_t>(classes - 1));
  for (std::int64_t c = 1; c < classes; ++c) {
    const auto p = (pred == c) & valid;
    const auto t = truth == c;
    auto& out = counts[static_cast<std::size_t>(c - 1)];
    out.tp = (p & t).sum().item<std::int64_t>();
    out.fp = (p & ~t).sum().item<std::int64_t>();
    out.fn = (~p & t).sum().item<std::int64_t>();
  }
  return counts;
}

}  // namespace cltci::engine
