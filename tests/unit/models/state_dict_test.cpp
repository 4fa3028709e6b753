#include "cltci/models/state_dict.h"

#include "cltci/common/error.h"
#include "cltci/models/resnet.h"
#include "cltci/models/unet.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace cltci::models {
namespace {

TEST(StateDict, TransferCopiesParametersAndBatchNormStatistics) {
  torch::manual_seed(9);
  UNetEncoder pretrained(UNetEncoderOptions(1).base_channels(4).depth(2));
  pretrained->train();
  {
    torch::NoGradGuard no_grad;
    // Two training-mode passes move the running statistics away from (0, 1).
    for (int i = 0; i < 2; ++i) pretrained->features(torch::randn({2, 1, 16, 16}) * 3 + 1);
  }
  UNet net(UNetOptions(1, 3).base_channels(4).depth(2));
  const auto report = transfer(*pretrained, *net->encoder_module);
  EXPECT_EQ(report.loaded.size(), state_dict(*pretrained).size());
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  const auto source = state_dict(*pretrained);
  const auto target = state_dict(*net->encoder_module);
  for (const auto& item : source) {
    EXPECT_TRUE(torch::equal(item.value(), target[item.key()])) << item.key();
  }
  const auto& mean = target["levels.0.1.running_mean"];
  EXPECT_GT(mean.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(target["levels.0.1.num_batches_tracked"].item<int64_t>(), 2);
  // The copy is a copy: the networks do not share storage.
  EXPECT_NE(mean.data_ptr(), source["levels.0.1.running_mean"].data_ptr());
}

TEST(StateDict, ReportsMissingAndUnexpectedKeys) {
  UNetEncoder small(UNetEncoderOptions(1).base_channels(4).depth(1));
  UNet net(UNetOptions(1, 3).base_channels(4).depth(1));
  // The whole U-Net into its encoder: the decoder keys and the "encoder." prefix mismatch.
  StateDict dict = state_dict(*net);
  const auto report = load_state_dict(*small, strip_prefix(dict, "encoder."));
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_EQ(report.loaded.size(), state_dict(*small).size());
  const auto raw = load_state_dict(*small, dict);
  EXPECT_TRUE(raw.loaded.empty());
  EXPECT_EQ(raw.missing.size(), state_dict(*small).size());
  EXPECT_EQ(raw.unexpected.size(), dict.size());
  EXPECT_EQ(add_prefix(strip_prefix(dict, "encoder."), "encoder.").size(),
            state_dict(*net->encoder_module).size());
  EXPECT_NE(raw.summary().find("0 loaded"), std::string::npos);
}

TEST(StateDict, ShapeMismatchNamesTheFirstKeyAndBothShapes) {
  ResNet rgb(ResNetOptions().in_channels(3));
  ResNet grey(ResNetOptions().in_channels(1));
  const auto before = grey->conv1->weight.clone();
  const auto message = testing::message_of<common::InputError>([&] { transfer(*rgb, *grey); });
  EXPECT_EQ(message,
            "weights do not match the model at 'conv1.weight': [64, 3, 7, 7] in the weights, "
            "[64, 1, 7, 7] in the model");
  // Nothing was copied.
  EXPECT_TRUE(torch::equal(before, grey->conv1->weight));
}

}  // namespace
}  // namespace cltci::models
