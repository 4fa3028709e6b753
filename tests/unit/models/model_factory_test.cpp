#include "cltci/models/model_factory.h"

#include "cltci/common/error.h"
#include "cltci/models/deeplabv3plus.h"
#include "cltci/models/resnet.h"
#include "cltci/models/state_dict.h"
#include "cltci/models/unet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cltci::models {
namespace {

TEST(ModelFactory, BuildsEachArchitecture) {
  ModelSpec unet;
  unet.base_channels = 8;
  unet.depth = 3;
  auto encoder = make_encoder(unet);
  ASSERT_NE(std::dynamic_pointer_cast<UNetEncoderImpl>(encoder), nullptr);
  EXPECT_EQ(encoder->channels().back(), 64);
  auto net = make_segmentation_net(unet, encoder);
  ASSERT_NE(std::dynamic_pointer_cast<UNetImpl>(net), nullptr);
  EXPECT_EQ(net->encoder().get(), encoder.get());

  ModelSpec deeplab;
  deeplab.arch = "deeplabv3plus";
  deeplab.output_stride = 8;
  auto resnet = std::dynamic_pointer_cast<ResNetImpl>(make_encoder(deeplab));
  ASSERT_NE(resnet, nullptr);
  EXPECT_EQ(resnet->options.in_channels(), 1);
  auto dl = std::dynamic_pointer_cast<DeepLabV3PlusImpl>(make_segmentation_net(deeplab));
  ASSERT_NE(dl, nullptr);
  EXPECT_EQ(dl->encoder()->output_stride(), 8);
  EXPECT_EQ(count_parameters(*dl), 39750947);  // see DeepLabV3Plus.ParameterCountMatchesHand…

  ModelSpec resnet32;
  resnet32.arch = "resnet50";
  resnet32.in_channels = 3;
  resnet32.output_stride = 32;
  EXPECT_EQ(count_parameters(*make_encoder(resnet32)), 23508032);
  EXPECT_THROW(make_segmentation_net(resnet32), common::InputError);
}

TEST(ModelFactory, ReportsEveryProblemOfASpec) {
  ModelSpec spec;
  spec.arch = "unet";
  spec.classes = 0;
  spec.norm = "group";
  spec.norm_groups = 5;
  EXPECT_EQ(validate(spec),
            (std::vector<std::string>{"model.classes: must be > 0 (got 0)",
                                      "model.norm_groups: 5 groups must divide base_channels 32"}));
  spec = ModelSpec{};
  spec.arch = "vit";
  EXPECT_EQ(validate(spec).front(),
            "model.arch: unknown architecture 'vit' (choose unet, deeplabv3plus or resnet50)");
  spec.arch = "deeplabv3plus";
  spec.output_stride = 32;
  spec.aspp_rates = {};
  try {
    make_encoder(spec);
    FAIL() << "no error";
  } catch (const common::InputError& e) {
    EXPECT_EQ(e.problems(),
              (std::vector<std::string>{"model.output_stride: must be 8 or 16 (got 32)",
                                        "model.aspp_rates: needs at least one rate"}));
  }
  ModelSpec unet;
  auto resnet = make_encoder(ModelSpec{"resnet50"});
  EXPECT_THROW(make_segmentation_net(unet, resnet), common::InputError);
}

}  // namespace
}  // namespace cltci::models
