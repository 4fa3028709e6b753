#include "cltci/models/resnet.h"

#include "cltci/models/state_dict.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace cltci::models {
namespace {

TEST(ResNet, TorchvisionParameterCountAndStateDictKeys) {
  ResNet net(ResNetOptions().in_channels(3));
  // torchvision resnet50: 25,557,032 parameters, minus fc (2048·1000 + 1000).
  EXPECT_EQ(count_parameters(*net), 23508032);
  const StateDict dict = state_dict(*net);
  // 53 convs (1 stem + 16 blocks × 3 + 4 downsample) and 53 BNs: 53 + 2·53 parameters and
  // 3·53 buffers.
  EXPECT_EQ(dict.size(), 318u);
  EXPECT_EQ(net->parameters().size(), 159u);
  int64_t tracked = 0;
  for (const auto& item : dict) {
    tracked += item.key().size() > 19 &&
               item.key().compare(item.key().size() - 19, 19, "num_batches_tracked") == 0;
  }
  EXPECT_EQ(tracked, 53);
  // The first and last keys in torchvision's order, and the downsample names.
  EXPECT_EQ(dict.keys().front(), "conv1.weight");
  EXPECT_EQ(dict.keys()[1], "bn1.weight");
  EXPECT_EQ(dict.keys()[5], "bn1.num_batches_tracked");
  EXPECT_EQ(dict.keys().back(), "layer4.2.bn3.num_batches_tracked");
  for (const char* key : {"layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_mean",
                          "layer2.3.conv2.weight", "layer3.5.bn3.running_var",
                          "layer4.0.downsample.1.num_batches_tracked"}) {
    EXPECT_TRUE(dict.contains(key)) << key;
  }
  EXPECT_FALSE(dict.contains("layer1.1.downsample.0.weight"));
  EXPECT_EQ(dict["layer3.0.conv2.weight"].sizes(), torch::IntArrayRef({256, 256, 3, 3}));
  EXPECT_EQ(dict["bn1.num_batches_tracked"].scalar_type(), torch::kLong);
}

TEST(ResNet, OneChannelStemAndTorchvisionInit) {
  torch::manual_seed(3);
  ResNet net(ResNetOptions().in_channels(1));
  EXPECT_EQ(count_parameters(*net), 23508032 - 64 * 2 * 49);
  // kaiming-normal fan_out relu: std = sqrt(2 / (out · k²)).
  const double expected = std::sqrt(2.0 / (64 * 49));
  EXPECT_NEAR(net->conv1->weight.std().item<double>(), expected, 0.03 * expected);
  EXPECT_TRUE(torch::equal(net->bn1->weight, torch::ones(64)));
  EXPECT_TRUE(torch::equal(net->bn1->bias, torch::zeros(64)));
}

TEST(ResNet, FeatureShapesForEachOutputStride) {
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 1, 64, 64});
  const std::vector<int64_t> channels = {64, 256, 512, 1024, 2048};
  for (int64_t os : {32, 16, 8}) {
    ResNet net(ResNetOptions().in_channels(1).output_stride(os));
    net->eval();
    const auto features = net->features(x);
    ASSERT_EQ(features.size(), 5u);
    EXPECT_EQ(net->channels(), channels);
    EXPECT_EQ(net->output_stride(), os);
    for (size_t i = 0; i < 5; ++i) {
      const int64_t side = 64 / net->reductions()[i];
      EXPECT_EQ(features[i].sizes(), torch::IntArrayRef({1, channels[i], side, side}))
          << "os " << os << " feature " << i;
    }
  }
}

TEST(ResNet, DilationStylesDifferOnlyInTheFirstDilatedConv) {
  ResNet torchvision_style(ResNetOptions().output_stride(8));
  ResNet smp_style(ResNetOptions().output_stride(8).smp_dilation(true));
  auto dilation_of = [](ResNet& net, torch::nn::Sequential& layer, size_t block) {
    (void)net;
    return layer->ptr<BottleneckImpl>(block)->conv2->options.dilation()->at(0);
  };
  // torchvision keeps the previous dilation in the stage's first block (1 in layer3, 2 in
  // layer4); smp dilates every block.
  EXPECT_EQ(dilation_of(torchvision_style, torchvision_style->layer3, 0), 1);
  EXPECT_EQ(dilation_of(torchvision_style, torchvision_style->layer3, 1), 2);
  EXPECT_EQ(dilation_of(torchvision_style, torchvision_style->layer4, 0), 2);
  EXPECT_EQ(dilation_of(torchvision_style, torchvision_style->layer4, 2), 4);
  EXPECT_EQ(dilation_of(smp_style, smp_style->layer3, 0), 2);
  EXPECT_EQ(dilation_of(smp_style, smp_style->layer4, 0), 4);
  EXPECT_EQ(torchvision_style->layer4->ptr<BottleneckImpl>(0)->conv2->options.stride()->at(0), 1);
}

TEST(ResNet, GradientsReachEveryParameter) {
  torch::manual_seed(4);
  ResNet net(ResNetOptions().in_channels(1).output_stride(16));
  net->train();
  auto features = net->features(torch::randn({2, 1, 64, 64}));
  torch::Tensor loss = torch::zeros({});
  // Sum over every returned feature so the stem and each stage is reached.
  for (const auto& f : features) loss = loss + (f * torch::randn_like(f)).mean();
  loss.backward();
  EXPECT_EQ(testing::parameters_without_gradient(*net), std::vector<std::string>{});
}

TEST(ResNet, RejectsBadOptionsAndInputs) {
  EXPECT_THROW(ResNet(ResNetOptions().output_stride(4)), c10::Error);
  EXPECT_THROW(ResNet(ResNetOptions().layers({3, 4, 6})), c10::Error);
  ResNet net(ResNetOptions().in_channels(1));
  const auto message = testing::message_of<c10::Error>([&] {
    net->features(torch::zeros({1, 1, 48, 64}));
  });
  EXPECT_NE(message.find("divisible by 32"), std::string::npos) << message;
  EXPECT_NE(message.find("64×64"), std::string::npos) << message;
}

}  // namespace
}  // namespace cltci::models
