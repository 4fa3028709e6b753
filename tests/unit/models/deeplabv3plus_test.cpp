#include "cltci/models/deeplabv3plus.h"

#include "cltci/models/resnet.h"
#include "cltci/models/state_dict.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace cltci::models {
namespace {

TEST(DeepLabV3Plus, ParameterCountMatchesHandDerivation) {
  // Encoder: ResNet-50 with a 1-channel stem: 23,508,032 − 64·2·49 = 23,501,760.
  // ASPP (2048 → 256, convs without bias, BN 2·256 = 512 each):
  //   1×1: 524,288 + 512 = 524,800;  three 3×3: 3 · (4,718,592 + 512) = 14,157,312
  //   pooling 1×1: 524,800;  projection 1280 → 256: 327,680 + 512 = 328,192   → 15,535,104
  // Decoder: low level 1×1 256 → 48: 12,288 + 96 = 12,384; 3×3 304 → 256: 700,416 + 512 =
  //   700,928; classifier 1×1 256 → 3 with bias: 771   → 714,083
  // Total: 23,501,760 + 15,535,104 + 714,083 = 39,750,947.
  DeepLabV3Plus net(DeepLabV3PlusOptions(1, 3));
  EXPECT_EQ(count_parameters(*net->encoder()), 23501760);
  EXPECT_EQ(count_parameters(*net->aspp), 15535104);
  EXPECT_EQ(count_parameters(*net), 39750947);
  // Separable branches (depthwise 3×3 2048·9 = 18,432, pointwise 524,288, BN 512 = 543,232)
  // replace 4,719,104 each: 39,750,947 − 3 · 4,175,872 = 27,223,331.
  DeepLabV3Plus separable(DeepLabV3PlusOptions(1, 3).aspp_rates({12, 24, 36}).aspp_separable(true));
  EXPECT_EQ(count_parameters(*separable), 27223331);
}

TEST(DeepLabV3Plus, PaperSizeOutputShape) {
  torch::manual_seed(5);
  DeepLabV3Plus net(DeepLabV3PlusOptions(1, 3));
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::randn({1, 1, 256, 256})).sizes(),
            torch::IntArrayRef({1, 3, 256, 256}));
  EXPECT_EQ(net->encoder()->output_stride(), 16);
}

TEST(DeepLabV3Plus, GradientsReachEveryParameterWithSeparableASPP) {
  torch::manual_seed(6);
  DeepLabV3Plus net(DeepLabV3PlusOptions(1, 2).aspp_separable(true));
  net->train();
  const auto y = net->forward(torch::randn({2, 1, 32, 48}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 2, 32, 48}));
  (y * torch::randn_like(y)).sum().backward();
  EXPECT_EQ(testing::parameters_without_gradient(*net), std::vector<std::string>{});
}

TEST(DeepLabV3Plus, BuildsAroundAGivenEncoder) {
  ResNet encoder(ResNetOptions().in_channels(1).output_stride(16));
  DeepLabV3Plus net(DeepLabV3PlusOptions(1, 3), encoder.ptr());
  EXPECT_EQ(net->encoder().get(), encoder.get());
  EXPECT_TRUE(state_dict(*net).contains("encoder.layer1.0.downsample.1.running_mean"));
  EXPECT_THROW(DeepLabV3Plus(DeepLabV3PlusOptions(3, 3), encoder.ptr()), c10::Error);
}

TEST(DeepLabV3Plus, InputSizeNotDivisibleNamesASizeThatWorks) {
  DeepLabV3Plus net(DeepLabV3PlusOptions(1, 3));
  net->eval();
  const auto message = testing::message_of<c10::Error>([&] {
    net->forward(torch::zeros({1, 1, 100, 100}));
  });
  EXPECT_NE(message.find("divisible by 16"), std::string::npos) << message;
  EXPECT_NE(message.find("112×112"), std::string::npos) << message;
}

TEST(ASPP, BranchesFollowTheRates) {
  ASPP aspp(ASPPOptions(64).out_channels(16).rates({2, 3}));
  ASSERT_EQ(aspp->branches->size(), 3u);
  const auto second = aspp->branches->ptr<torch::nn::SequentialImpl>(2);
  EXPECT_EQ(second->ptr<torch::nn::Conv2dImpl>(0)->options.dilation()->at(0), 3);
  aspp->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(aspp->forward(torch::randn({1, 64, 5, 7})).sizes(), torch::IntArrayRef({1, 16, 5, 7}));
  EXPECT_THROW(ASPP(ASPPOptions(64).rates({})), c10::Error);
}

}  // namespace
}  // namespace cltci::models
