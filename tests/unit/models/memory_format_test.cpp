#include "cltci/models/memory_format.h"

#include "cltci/models/unet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cltci::models {
namespace {

TEST(MemoryFormat, ConvWeightsBecomeChannelsLastAndOthersStay) {
  torch::manual_seed(0);
  UNet net(UNetOptions(1, 3));
  std::int64_t four_d = 0;
  for (const auto& parameter : net->parameters()) {
    if (parameter.dim() == 4) ++four_d;
  }
  ASSERT_GT(four_d, 0);
  // Held before the change, as an optimizer would hold them.
  const std::vector<torch::Tensor> held = net->parameters();
  use_channels_last(*net);
  for (const auto& parameter : held) {
    if (parameter.dim() == 4) {
      EXPECT_TRUE(parameter.is_contiguous(at::MemoryFormat::ChannelsLast)) << parameter.sizes();
      // A [O, 1, 1, 1]-like shape is contiguous both ways; the U-Net's 3×3 kernels are not.
      if (parameter.size(1) > 1 && parameter.size(2) > 1) {
        EXPECT_FALSE(parameter.is_contiguous());
      }
    } else {
      EXPECT_TRUE(parameter.is_contiguous());
    }
  }
}

TEST(MemoryFormat, ChannelsLastNetworkComputesTheSameOutputAndGradients) {
  torch::manual_seed(1);
  UNet reference(UNetOptions(1, 3));
  UNet nhwc(UNetOptions(1, 3));
  {
    torch::NoGradGuard no_grad;
    const auto source = reference->parameters();
    const auto target = nhwc->parameters();
    ASSERT_EQ(source.size(), target.size());
    for (std::size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
  }
  // In double precision: with BatchNorm over a 2x2 bottom level, fp32's different summation
  // orders alone move the early layers' gradients by about 2 %.
  reference->to(torch::kDouble);
  nhwc->to(torch::kDouble);
  use_channels_last(*nhwc);
  const auto x = torch::randn({2, 1, 32, 32}, torch::kDouble);
  const auto input = channels_last_input(x, true);
  EXPECT_TRUE(input.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(channels_last_input(x, false).is_same(x));

  const auto out_reference = reference->forward(x);
  const auto out_nhwc = nhwc->forward(input);
  EXPECT_TRUE(torch::allclose(out_reference, out_nhwc, 1e-10, 1e-12));
  // Summed over 2·3·32² outputs: the gradients are large, so they are compared by relative
  // error (the two layouts accumulate in different orders).
  out_reference.square().sum().backward();
  out_nhwc.square().sum().backward();
  const auto grads_reference = reference->parameters();
  const auto grads_nhwc = nhwc->parameters();
  // Against the largest gradient: the biases of convolutions followed by BatchNorm have a zero
  // gradient in exact arithmetic, so only rounding noise to compare there.
  double scale = 0;
  for (const auto& parameter : grads_reference)
    scale = std::max(scale, parameter.grad().norm().item<double>());
  ASSERT_GT(scale, 0);
  for (std::size_t i = 0; i < grads_reference.size(); ++i) {
    const double difference =
        (grads_nhwc[i].grad() - grads_reference[i].grad()).norm().item<double>();
    EXPECT_LT(difference, 1e-10 * scale) << "parameter " << i << " " << grads_reference[i].sizes();
  }
}

TEST(MemoryFormat, RejectsAnInputThatIsNotAnImageBatch) {
  EXPECT_THROW(channels_last_input(torch::zeros({3, 8, 8}), true), c10::Error);
  // Off means untouched, whatever the shape.
  EXPECT_NO_THROW(channels_last_input(torch::zeros({3, 8, 8}), false));
}

}  // namespace
}  // namespace cltci::models
