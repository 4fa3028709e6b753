#include "cltci/models/unet.h"

#include "cltci/models/state_dict.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace cltci::models {
namespace {

using testing::message_of;
using testing::parameters_without_gradient;

TEST(UNet, PaperSizeOutputShapeAndEncoderFeatures) {
  torch::manual_seed(0);
  UNet net(UNetOptions(1, 3));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 1, 256, 256});
  EXPECT_EQ(net->forward(x).sizes(), torch::IntArrayRef({1, 3, 256, 256}));
  const auto features = net->encoder()->features(x);
  ASSERT_EQ(features.size(), 5u);
  const std::vector<int64_t> channels = {32, 64, 128, 256, 512};
  EXPECT_EQ(net->encoder()->channels(), channels);
  for (size_t i = 0; i < features.size(); ++i) {
    const int64_t side = 256 >> i;
    EXPECT_EQ(features[i].sizes(), torch::IntArrayRef({1, channels[i], side, side})) << i;
  }
  EXPECT_EQ(net->encoder()->output_stride(), 16);
}

TEST(UNet, ParameterCountMatchesHandDerivation) {
  // conv3x3(i→o) with bias: 9·i·o + o; norm(o): 2·o; ConvTranspose2d(2o→o, k2): 4·2o·o + o.
  // Encoder levels (conv+norm twice):
  //   1→32: 320+64+9248+64 = 9,696      32→64: 18,496+128+36,928+128 = 55,680
  //   64→128: 73,856+256+147,584+256 = 221,952   128→256: 295,168+512+590,080+512 = 886,272
  //   centre 256→512→512, no norm: 1,180,160 + 2,359,808 = 3,539,968   → encoder 4,713,568
  // Decoder (up + two blocks): 512→256: 524,544 + 1,179,904+512+590,080+512 = 2,295,552
  //   256→128: 131,200 + 295,040+256+147,584+256 = 574,336
  //   128→64: 32,832 + 73,792+128+36,928+128 = 143,808
  //   64→32: 8,224 + 18,464+64+9,248+64 = 36,064;  head 1×1 32→3 no bias: 96
  //   → decoder 3,049,856;  total 7,763,424.
  UNet batch(UNetOptions(1, 3));
  EXPECT_EQ(count_parameters(*batch->encoder()), 4713568);
  EXPECT_EQ(count_parameters(*batch), 7763424);
  // Affine instance norm and group norm have the same 2·o parameters as BatchNorm.
  UNet instance(UNetOptions(1, 3).norm(Norm::kInstance));
  EXPECT_EQ(count_parameters(*instance), 7763424);
  UNet group(UNetOptions(1, 3).norm(Norm::kGroup).norm_groups(8));
  EXPECT_EQ(count_parameters(*group), 7763424);
  // BatchNorm's running statistics are buffers: 3 per norm, 16 norms (8 encoder, 8 decoder).
  EXPECT_EQ(batch->buffers().size(), 48u);
}

TEST(UNet, GradientsReachEveryParameterForEachNorm) {
  for (Norm norm : {Norm::kBatch, Norm::kInstance, Norm::kGroup}) {
    torch::manual_seed(1);
    UNet net(UNetOptions(1, 3).base_channels(8).depth(3).norm(norm).norm_groups(4));
    net->train();
    const auto y = net->forward(torch::randn({2, 1, 32, 32}));
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 32, 32}));
    (y * torch::randn_like(y)).sum().backward();
    EXPECT_EQ(parameters_without_gradient(*net), std::vector<std::string>{}) << to_string(norm);
  }
}

TEST(UNet, InitialisationFollowsThePaper) {
  torch::manual_seed(2);
  UNet net(UNetOptions(1, 3));
  // kaiming-normal, a = 0.01, fan_in: std = sqrt(2 / (1 + a²)) / sqrt(fan_in).
  auto level1 = net->encoder_module->levels->ptr<torch::nn::SequentialImpl>(1);
  const auto& weight = level1->ptr<torch::nn::Conv2dImpl>(3)->weight;  // 64 → 64, fan_in 576
  const double expected = std::sqrt(2.0 / (1.0 + 0.01 * 0.01)) / std::sqrt(576.0);
  EXPECT_NEAR(weight.std().item<double>(), expected, 0.02 * expected);
  int convs = 0;
  for (const auto& module : net->modules()) {
    torch::Tensor bias;
    if (auto* conv = module->as<torch::nn::Conv2d>()) bias = conv->bias;
    if (auto* up = module->as<torch::nn::ConvTranspose2d>()) bias = up->bias;
    if (!bias.defined()) continue;
    ++convs;
    EXPECT_EQ(bias.abs().sum().item<double>(), 0.0);
  }
  EXPECT_EQ(convs, 4 * 2 + 2 + 4 * 3);  // the head has no bias
  EXPECT_FALSE(net->head->bias.defined());
}

TEST(UNet, BuildsAroundAGivenEncoderAndSharesIt) {
  UNetEncoder encoder(UNetEncoderOptions(1).base_channels(8).depth(2));
  UNet net(UNetOptions(1, 2).base_channels(8).depth(2), encoder);
  EXPECT_EQ(net->encoder().get(), encoder.get());
  EXPECT_EQ(state_dict(*net).find("encoder.levels.0.0.weight")->data_ptr(),
            encoder->levels->ptr<torch::nn::SequentialImpl>(0)
                ->ptr<torch::nn::Conv2dImpl>(0)
                ->weight.data_ptr());
  EXPECT_THROW(UNet(UNetOptions(1, 2).base_channels(16).depth(2), encoder), c10::Error);
}

TEST(UNet, InputSizeNotDivisibleNamesASizeThatWorks) {
  UNet net(UNetOptions(1, 3).base_channels(4));
  const auto message = message_of<c10::Error>([&] { net->forward(torch::zeros({1, 1, 60, 70})); });
  EXPECT_NE(message.find("divisible by 16"), std::string::npos) << message;
  EXPECT_NE(message.find("64×80"), std::string::npos) << message;
  EXPECT_NE(message_of<c10::Error>([&] {
              net->forward(torch::zeros({1, 3, 64, 64}));
            }).find("expects 1 input channels"),
            std::string::npos);
}

}  // namespace
}  // namespace cltci::models
