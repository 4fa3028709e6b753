#include "cltci/analysis/probes.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace cltci::analysis {
namespace {

// Four images of two patients on the unit circle, plus a patient with a single image:
//   cos(e0,e1)=0.8  cos(e0,e2)=0    cos(e0,e3)=0.6
//   cos(e1,e2)=0.6  cos(e1,e3)=0.96 cos(e2,e3)=0.8
// Rankings: e0 -> e1 (hit, AP 1); e1 -> e3, e0 (miss, AP 1/2); e2 -> e3 (hit, AP 1);
// e3 -> e1, e2 (miss, AP 1/2). e4 is never a query (no other image of its patient).
at::Tensor hand_embeddings() {
  return torch::tensor({{1.0, 0.0}, {0.8, 0.6}, {0.0, 1.0}, {0.6, 0.8}, {-1.0, 0.0}},
                       torch::kFloat32);
}
at::Tensor hand_patients() { return torch::tensor({0, 0, 1, 1, 2}, torch::kInt64); }

TEST(Probes, RetrievalOnHandBuiltEmbeddingsIsExact) {
  const RetrievalScores scores = patient_retrieval(hand_embeddings(), hand_patients());
  EXPECT_EQ(scores.queries, 4);
  EXPECT_DOUBLE_EQ(scores.top1, 0.5);
  EXPECT_DOUBLE_EQ(scores.map, 0.75);
  // Each query has 1 relevant item among 4 others.
  EXPECT_DOUBLE_EQ(scores.top1_chance, 0.25);
  EXPECT_NEAR(scores.map_chance, (1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4) / 4.0, 1e-12);
  // Scale does not matter (rows are normalised).
  const RetrievalScores scaled = patient_retrieval(hand_embeddings() * 7.0, hand_patients());
  EXPECT_DOUBLE_EQ(scaled.map, scores.map);
}

TEST(Probes, RandomAveragePrecisionMatchesEnumeration) {
  // All placements of R relevant items among N are equally likely under a random ranking.
  for (const std::int64_t n : {1, 2, 5, 7}) {
    for (std::int64_t r = 1; r <= n; ++r) {
      double sum = 0.0;
      std::int64_t placements = 0;
      for (std::int64_t mask = 0; mask < (std::int64_t{1} << n); ++mask) {
        if (__builtin_popcountll(static_cast<unsigned long long>(mask)) != r) continue;
        double ap = 0.0;
        std::int64_t hits = 0;
        for (std::int64_t k = 0; k < n; ++k) {
          if ((mask >> k) & 1) ap += static_cast<double>(++hits) / static_cast<double>(k + 1);
        }
        sum += ap / static_cast<double>(r);
        ++placements;
      }
      EXPECT_NEAR(random_average_precision(n, r), sum / static_cast<double>(placements), 1e-12)
          << "N=" << n << " R=" << r;
    }
  }
  EXPECT_THROW(random_average_precision(3, 0), c10::Error);
}

TEST(Probes, PerfectAndTiedRankings) {
  // Each patient's images coincide: retrieval is perfect.
  const auto x = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}, {0.0, 1.0}, {0.0, 1.0}});
  const auto ids = torch::tensor({3, 3, 8, 8, 8}, torch::kInt64);
  const RetrievalScores perfect = patient_retrieval(x, ids);
  EXPECT_DOUBLE_EQ(perfect.top1, 1.0);
  EXPECT_DOUBLE_EQ(perfect.map, 1.0);
  // A constant encoder: every similarity ties and ties go to the lower index, so image 0's
  // nearest neighbour is image 1 (its patient) and everyone else's is image 0 (or 1).
  const RetrievalScores constant = patient_retrieval(torch::ones({5, 4}), ids);
  EXPECT_EQ(constant.queries, 5);
  EXPECT_DOUBLE_EQ(constant.top1, 2.0 / 5.0);
}

TEST(Probes, CosinesAlignmentUniformityAndRank) {
  const EmbeddingProbe probe =
      probe_embeddings(hand_embeddings().slice(0, 0, 4), hand_patients().slice(0, 0, 4));
  EXPECT_EQ(probe.images, 4);
  EXPECT_EQ(probe.dims, 2);
  EXPECT_NEAR(probe.positive_cosine, 0.8, 1e-6);
  EXPECT_NEAR(probe.negative_cosine, (0.0 + 0.6 + 0.6 + 0.96) / 4.0, 1e-6);
  EXPECT_NEAR(probe.alignment, 0.4, 1e-6);  // 2 - 2 * 0.8
  // Squared distances of the 6 pairs: 0.4, 2, 0.8, 0.8, 0.08, 0.4.
  const double expected = std::log(
      (std::exp(-0.8) + std::exp(-4.0) + 2 * std::exp(-1.6) + std::exp(-0.16) + std::exp(-0.8)) /
      6.0);
  EXPECT_NEAR(probe.uniformity, expected, 1e-6);

  // Two orthogonal directions of equal spread: effective rank 2; one point: 1.
  const auto cross =
      torch::tensor({{1.0, 0.0, 0.0}, {-1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, -1.0, 0.0}});
  EXPECT_NEAR(effective_rank(cross), 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(effective_rank(torch::ones({6, 16}) * 0.3), 1.0);
  EXPECT_THROW(probe_embeddings(torch::ones({3, 2}), torch::zeros({4}, torch::kInt64)), c10::Error);
}

TEST(Probes, CollapseDetectorOnAConstantEncoder) {
  CollapseOptions options;
  options.patience = 3;
  CollapseDetector detector(options);
  // A constant encoder: every probe has effective rank 1, every epoch's loss is the collapse
  // value log(K + 1).
  const double collapse = std::log(257.0);
  const double rank =
      probe_embeddings(torch::ones({10, 8}), torch::div(torch::arange(10), 2, "floor"))
          .effective_rank;
  EXPECT_DOUBLE_EQ(rank, 1.0);
  std::optional<std::string> loss_warning, rank_warning;
  for (int epoch = 0; epoch < 3; ++epoch) {
    EXPECT_FALSE(loss_warning.has_value());
    loss_warning = detector.observe_loss(collapse * 1.01, collapse);
    rank_warning = detector.observe_rank(rank);
  }
  ASSERT_TRUE(loss_warning.has_value());
  EXPECT_NE(loss_warning->find("collapse value 5.5491"), std::string::npos) << *loss_warning;
  ASSERT_TRUE(rank_warning.has_value());
  EXPECT_NE(rank_warning->find("effective rank"), std::string::npos);
  // Once per cause.
  EXPECT_FALSE(detector.observe_loss(collapse, collapse).has_value());
  EXPECT_FALSE(detector.observe_rank(1.0).has_value());

  // A loss that leaves the collapse band resets the streak.
  CollapseDetector learning(options);
  EXPECT_FALSE(learning.observe_loss(collapse, collapse).has_value());
  EXPECT_FALSE(learning.observe_loss(collapse, collapse).has_value());
  EXPECT_FALSE(learning.observe_loss(0.9 * collapse, collapse).has_value());
  EXPECT_EQ(learning.loss_streak(), 0);
  EXPECT_FALSE(learning.observe_loss(collapse, collapse).has_value());
  EXPECT_FALSE(learning.observe_rank(5.0).has_value());
  EXPECT_EQ(learning.rank_streak(), 0);
}

}  // namespace
}  // namespace cltci::analysis
