#include "cltci/models/heads.h"

#include "cltci/models/state_dict.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace cltci::models {
namespace {

TEST(ProjectionHead, PoolsThenTwoLayerMlp) {
  torch::manual_seed(7);
  ProjectionHead head(ProjectionHeadOptions(16, 8));
  // 16·512 + 512 + 512·8 + 8.
  EXPECT_EQ(count_parameters(*head), 16 * 512 + 512 + 512 * 8 + 8);
  const auto maps = torch::randn({3, 16, 4, 5});
  const auto out = head->forward(maps);
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({3, 8}));
  const auto by_hand = head->fc2(torch::relu(head->fc1(maps.mean({2, 3}))));
  EXPECT_TRUE(torch::allclose(out, by_hand));
  EXPECT_TRUE(torch::allclose(head->forward(maps.mean({2, 3})), out));
  out.sum().backward();
  EXPECT_EQ(testing::parameters_without_gradient(*head), std::vector<std::string>{});
  EXPECT_THROW(head->forward(torch::randn({3, 15, 4, 4})), c10::Error);
}

TEST(RotationHead, FourWayLogits) {
  RotationHead head(RotationHeadOptions(32));
  EXPECT_EQ(head->forward(torch::randn({2, 32, 3, 3})).sizes(), torch::IntArrayRef({2, 4}));
  EXPECT_EQ(count_parameters(*head), 32 * 512 + 512 + 512 * 4 + 4);
}

TEST(JigsawHead, ConcatenatesPatchEmbeddingsInOrder) {
  torch::manual_seed(8);
  JigsawHead head(JigsawHeadOptions(16, 32).patch_dim(8).hidden_dim(12));
  EXPECT_EQ(count_parameters(*head), (16 * 12 + 12 + 12 * 8 + 8) + (9 * 8 * 32 + 32));
  const auto patches = torch::randn({18, 16, 2, 2});
  const auto out = head->forward(patches);
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 32}));
  // Each image uses only its own 9 patches.
  EXPECT_TRUE(torch::allclose(head->forward(patches.slice(0, 9, 18)), out.slice(0, 1, 2)));
  // Order matters: swapping two patches of the first image changes its embedding.
  auto swapped = patches.clone();
  swapped[0].copy_(patches[1]);
  swapped[1].copy_(patches[0]);
  EXPECT_FALSE(torch::allclose(head->forward(swapped).slice(0, 0, 1), out.slice(0, 0, 1)));
  out.sum().backward();
  EXPECT_EQ(testing::parameters_without_gradient(*head), std::vector<std::string>{});
  const auto message = testing::message_of<c10::Error>([&] {
    head->forward(torch::randn({10, 16, 2, 2}));
  });
  EXPECT_NE(message.find("9 consecutive patches"), std::string::npos) << message;
}

}  // namespace
}  // namespace cltci::models
