#include "cltci/models/weights_io.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/models/safetensors.h"
#include "cltci/models/unet.h"
#include "common_test_support.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <string_view>
#include <vector>

namespace cltci::models {
namespace {

// Non-default BN statistics, so that a round trip that dropped buffers would show.
void perturb_buffers(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& b : module.buffers()) {
    if (b.is_floating_point()) {
      b.uniform_(0.5, 1.5);
    } else {
      b.fill_(17);
    }
  }
}

TEST(WeightsIo, ResNetExportImportRoundTripIsBitExact) {
  cltci::testing::TempDir dir;
  torch::manual_seed(11);
  ResNet exported(ResNetOptions().in_channels(1));
  perturb_buffers(*exported);
  export_weights(*exported, dir / "r.safetensors");
  ResNet imported(ResNetOptions().in_channels(1));
  const auto report = import_weights(*imported, dir / "r.safetensors");
  EXPECT_EQ(report.loaded.size(), 318u);
  EXPECT_TRUE(report.unexpected.empty());
  const auto a = state_dict(*exported);
  const auto b = state_dict(*imported);
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  EXPECT_EQ(read_safetensors(dir / "r.safetensors").metadata.at("format"), "pt");
}

TEST(WeightsIo, CorruptWeightsAreRefusedAndOldFilesStillRead) {
  cltci::testing::TempDir dir;
  const auto file = dir / "u.safetensors";
  UNetEncoder exported(UNetEncoderOptions(1).base_channels(4).depth(2));
  export_weights(*exported, file);
  std::string bytes = common::read_file(file);
  // The last byte is tensor data: a flipped bit there passes every structural check.
  bytes.back() = static_cast<char>(bytes.back() ^ 0x01);
  common::write_file_atomic(file, std::string_view(bytes));
  UNetEncoder imported(UNetEncoderOptions(1).base_channels(4).depth(2));
  const auto before = state_dict(*imported);
  try {
    import_weights(*imported, file);
    FAIL() << "corrupt weights were imported";
  } catch (const common::InputError& error) {
    EXPECT_EQ(std::string(error.what())
                  .find(file.string() + ": checksum mismatch: the file is "
                                        "corrupt"),
              0U)
        << error.what();
  }
  EXPECT_EQ(common::read_file(file), bytes);
  for (const auto& item : state_dict(*imported))
    EXPECT_TRUE(torch::equal(item.value(), before[item.key()])) << item.key();
  // Files without the checksum key (older exports, other tools) are still read: the hand-made
  // headers of safetensors_test.cpp have none.
}

TEST(WeightsIo, PrefixesForSmpAndMocoCheckpoints) {
  cltci::testing::TempDir dir;
  UNetEncoder encoder(UNetEncoderOptions(1).base_channels(4).depth(2));
  perturb_buffers(*encoder);
  export_weights(*encoder, dir / "e.safetensors", {"encoder_q.", {}});
  const auto file = read_safetensors(dir / "e.safetensors");
  EXPECT_TRUE(file.tensors.contains("encoder_q.levels.0.0.weight"));
  UNetEncoder fresh(UNetEncoderOptions(1).base_channels(4).depth(2));
  EXPECT_THROW(import_weights(*fresh, dir / "e.safetensors"), common::InputError);
  import_weights(*fresh, dir / "e.safetensors", {"encoder_q.", true});
  EXPECT_TRUE(torch::equal(state_dict(*fresh)["levels.1.4.running_var"],
                           state_dict(*encoder)["levels.1.4.running_var"]));
}

TEST(WeightsIo, MismatchedImportNamesFileKeyAndShapes) {
  cltci::testing::TempDir dir;
  UNetEncoder wide(UNetEncoderOptions(1).base_channels(8).depth(2));
  export_weights(*wide, dir / "wide.safetensors");
  UNetEncoder narrow(UNetEncoderOptions(1).base_channels(4).depth(2));
  const auto message = testing::message_of<common::InputError>(
      [&] { import_weights(*narrow, dir / "wide.safetensors"); });
  EXPECT_EQ(message, (dir / "wide.safetensors").string() +
                         ": weights do not match the model at 'levels.0.0.weight': "
                         "[8, 1, 3, 3] in the weights, [4, 1, 3, 3] in the model");
}

TEST(WeightsIo, TorchvisionRgbWeightsIntoAGreyResNet) {
  cltci::testing::TempDir dir;
  torch::manual_seed(12);
  ResNet rgb(ResNetOptions().in_channels(3));
  perturb_buffers(*rgb);
  StateDict torchvision = state_dict(*rgb);
  torchvision.insert("fc.weight", torch::randn({1000, 2048}));
  torchvision.insert("fc.bias", torch::randn({1000}));
  write_safetensors(dir / "imagenet.safetensors", torchvision);

  ResNet grey(ResNetOptions().in_channels(1));
  const auto report = import_torchvision_resnet(*grey, dir / "imagenet.safetensors");
  EXPECT_EQ(report.loaded.size(), 318u);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_TRUE(torch::allclose(grey->conv1->weight, rgb->conv1->weight.sum(1, true)));
  // A grey image seen as R = G = B gives the RGB network's features.
  rgb->eval();
  grey->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({1, 1, 64, 64});
  EXPECT_TRUE(
      torch::allclose(grey->forward(x), rgb->forward(x.expand({1, 3, 64, 64})), 1e-4, 1e-4));

  // Five channels: RGB kernels cycled and scaled by 3/5.
  ResNet five(ResNetOptions().in_channels(5));
  load_torchvision_resnet(*five, torchvision);
  EXPECT_TRUE(
      torch::allclose(five->conv1->weight.select(1, 4), rgb->conv1->weight.select(1, 1) * 0.6));

  StateDict partial = torchvision;
  partial.erase("layer4.2.bn3.running_var");
  const auto message =
      testing::message_of<common::InputError>([&] { load_torchvision_resnet(*grey, partial); });
  EXPECT_NE(message.find("layer4.2.bn3.running_var"), std::string::npos) << message;
}

}  // namespace
}  // namespace cltci::models
