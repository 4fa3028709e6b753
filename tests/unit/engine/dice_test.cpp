#include "cltci/engine/dice.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace cltci::engine {
namespace {

TEST(Dice, HandBuiltMasksPooledAndPerImage) {
  // Image A: class 1 truth covers 4 pixels, prediction 2 of them plus 1 extra.
  auto truth_a = torch::zeros({4, 4}, torch::kLong);
  truth_a.index_put_({torch::indexing::Slice(0, 2), torch::indexing::Slice(0, 2)}, 1);
  auto pred_a = torch::zeros({4, 4}, torch::kLong);
  pred_a.index_put_({0, torch::indexing::Slice(0, 2)}, 1);
  pred_a.index_put_({3, 3}, 1);
  const auto a = count_classes(pred_a, truth_a, 3);
  EXPECT_EQ(a[0].tp, 2);
  EXPECT_EQ(a[0].fp, 1);
  EXPECT_EQ(a[0].fn, 2);
  EXPECT_DOUBLE_EQ(dice(a[0]), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(dice(a[1]), 1.0);  // class 2 empty in both: the stated rule

  // Image B: class 1 perfect on 8 pixels; class 2 predicted but absent from the truth.
  auto truth_b = torch::zeros({4, 4}, torch::kLong);
  truth_b.index_put_({torch::indexing::Slice(0, 2)}, 1);
  auto pred_b = truth_b.clone();
  pred_b.index_put_({3, 0}, 2);
  const auto b = count_classes(pred_b, truth_b, 3);
  EXPECT_DOUBLE_EQ(dice(b[0]), 1.0);
  EXPECT_DOUBLE_EQ(dice(b[1]), 0.0);

  ClassCounts pooled = a[0];
  pooled += b[0];
  // Pooled: TP 10, FP 1, FN 2 -> 20 / 23; per-image mean (4/7 + 1) / 2 differs.
  EXPECT_DOUBLE_EQ(dice(pooled), 20.0 / 23.0);
  EXPECT_NE(dice(pooled), (4.0 / 7.0 + 1.0) / 2.0);
}

TEST(Dice, EmptyPredictionAndIgnoredPixels) {
  auto truth = torch::full({3, 3}, 2, torch::kLong);
  truth.index_put_({0}, 255);
  const auto empty = torch::zeros({3, 3}, torch::kLong);
  auto counts = count_classes(empty, truth, 3);
  EXPECT_EQ(counts[1].fn, 6);
  EXPECT_DOUBLE_EQ(dice(counts[1]), 0.0);
  // A prediction of 2 on ignored pixels costs nothing.
  counts = count_classes(torch::full({3, 3}, 2, torch::kLong), truth, 3);
  EXPECT_EQ(counts[1].fp, 0);
  EXPECT_DOUBLE_EQ(dice(counts[1]), 1.0);
  EXPECT_THROW(count_classes(torch::zeros({2, 2}), truth, 3), c10::Error);
}

}  // namespace
}  // namespace cltci::engine
