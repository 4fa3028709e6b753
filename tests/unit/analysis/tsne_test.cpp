#include "cltci/analysis/tsne.h"

#include "cltci/common/error.h"
#include "common_test_support.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::analysis {
namespace {

struct Clusters {
  at::Tensor points;  // [clusters * per_cluster, dims] float32
  at::Tensor labels;  // [clusters * per_cluster] int64
};

// Centres ~ N(0, 10^2) per coordinate, members ~ centre + N(0, 1): in 50-D the centres are ~100
// apart, the members of one cluster ~10.
Clusters gaussian_clusters(std::int64_t clusters,
                           std::int64_t per_cluster,
                           std::int64_t dims,
                           std::uint64_t seed) {
  const auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor centres = torch::randn({clusters, 1, dims}, generator) * 10.0;
  const at::Tensor noise = torch::randn({clusters, per_cluster, dims}, generator);
  Clusters out;
  out.points = (centres + noise).reshape({clusters * per_cluster, dims});
  out.labels = torch::arange(clusters, torch::kInt64).repeat_interleave(per_cluster);
  return out;
}

// The entropy (nats) of each row of a probability matrix.
at::Tensor row_entropy(const at::Tensor& p) {
  const at::Tensor q = p.to(torch::kFloat64);
  return -(q * q.clamp_min(1e-300).log()).sum(1);
}

TEST(Tsne, MapKeepsGaussianClustersApart) {
  const Clusters data = gaussian_clusters(8, 40, 50, 7);
  ASSERT_DOUBLE_EQ(neighbour_label_agreement(data.points, data.labels, 5), 1.0);
  TsneOptions options;
  options.iterations = 500;
  const at::Tensor map = tsne(data.points, options);
  ASSERT_EQ(map.sizes(), (std::vector<std::int64_t>{320, 2}));
  EXPECT_EQ(map.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(map).all().item<bool>());
  EXPECT_LT(map.mean(0).abs().max().item<double>(), 1e-3);  // centred
  EXPECT_GE(neighbour_label_agreement(map, data.labels, 5), 0.95);
  // The map is spread out, not stuck near the 1e-4 initialisation.
  EXPECT_GT(map.std().item<double>(), 1.0);
}

TEST(Tsne, SameSeedSameMapOtherSeedOtherMap) {
  const Clusters data = gaussian_clusters(4, 25, 20, 3);
  TsneOptions options;
  options.perplexity = 10.0;
  options.iterations = 120;
  options.exaggeration_iterations = 60;
  options.seed = 11;
  const at::Tensor first = tsne(data.points, options);
  EXPECT_TRUE(torch::equal(first, tsne(data.points, options)));
  options.seed = 12;
  EXPECT_FALSE(torch::equal(first, tsne(data.points, options)));
}

TEST(Tsne, PerplexitySearchHitsTheTargetEntropy) {
  const Clusters data = gaussian_clusters(3, 30, 10, 5);
  for (const double scale : {1e-3, 1.0, 1e3}) {
    for (const double perplexity : {5.0, 25.0}) {
      const at::Tensor p = conditional_affinities(data.points * scale, perplexity);
      ASSERT_EQ(p.sizes(), (std::vector<std::int64_t>{90, 90}));
      EXPECT_EQ(p.diagonal().abs().max().item<double>(), 0.0);
      EXPECT_LT((p.sum(1, false, torch::kFloat64) - 1.0).abs().max().item<double>(), 1e-5);
      const at::Tensor error = (row_entropy(p) - std::log(perplexity)).abs();
      EXPECT_LT(error.max().item<double>(), 1e-4)
          << "scale " << scale << ", perplexity " << perplexity;
    }
  }
}

TEST(Tsne, IdenticalPointsGiveAFiniteMap) {
  // Every distance is 0: the affinities are uniform whatever the bandwidth, no 0/0.
  const at::Tensor p = conditional_affinities(torch::ones({20, 3}), 5.0);
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({20})));
  TsneOptions options;
  options.perplexity = 5.0;
  options.iterations = 50;
  EXPECT_TRUE(torch::isfinite(tsne(torch::ones({20, 3}), options)).all().item<bool>());
}

TEST(Tsne, RejectsBadInputsWithAMessage) {
  const auto message_of = [](const auto& call) -> std::string {
    try {
      call();
    } catch (const common::InputError& error) {
      return std::string("InputError: ") + error.what();
    } catch (const c10::Error& error) {
      return std::string("c10::Error: ") + error.what_without_backtrace();
    }
    return "no error";
  };
  TsneOptions options;  // perplexity 30 needs 91 points
  std::string message = message_of([&] { tsne(torch::randn({50, 4}), options); });
  EXPECT_NE(message.find("InputError: t-SNE perplexity 30 needs at least 91 points, got 50"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("largest perplexity for 50 points is 16.3"), std::string::npos) << message;
  EXPECT_DOUBLE_EQ(max_perplexity(91), 30.0);

  options.perplexity = 2.0;
  options.max_points = 10;
  message = message_of([&] { tsne(torch::randn({11, 4}), options); });
  EXPECT_NE(message.find("11 points exceed max_points = 10"), std::string::npos) << message;

  message = message_of([&] { tsne(torch::randn({40}), options); });
  EXPECT_NE(message.find("c10::Error: tsne: points must be [N, D]"), std::string::npos) << message;

  options.max_points = 5000;
  options.iterations = 0;
  message = message_of([&] { tsne(torch::randn({40, 4}), options); });
  EXPECT_NE(message.find("iterations must be >= 1"), std::string::npos) << message;

  options.iterations = 10;
  options.perplexity = 0.5;
  message = message_of([&] { tsne(torch::randn({40, 4}), options); });
  EXPECT_NE(message.find("perplexity must be >= 1"), std::string::npos) << message;

  at::Tensor with_nan = torch::randn({40, 4});
  with_nan[3][1] = std::nan("");
  options.perplexity = 5.0;
  message = message_of([&] { tsne(with_nan, options); });
  EXPECT_NE(message.find("NaN or infinite"), std::string::npos) << message;
}

TEST(Tsne, SubsampleIsSortedUniqueSeededAndUniform) {
  const std::vector<std::int64_t> a = subsample_indices(100, 30, 1);
  ASSERT_EQ(a.size(), 30U);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 100);
  EXPECT_EQ(a, subsample_indices(100, 30, 1));
  EXPECT_NE(a, subsample_indices(100, 30, 2));
  EXPECT_TRUE(subsample_indices(5, 0, 1).empty());
  EXPECT_EQ(subsample_indices(4, 4, 9), (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(subsample_indices(4, 5, 1), c10::Error);

  // Every index is picked with probability n / total = 0.25: 2000 draws -> 500 +- 3 sigma (58).
  std::vector<int> counts(20, 0);
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    for (const std::int64_t i : subsample_indices(20, 5, seed)) ++counts[static_cast<size_t>(i)];
  }
  for (const int count : counts) EXPECT_NEAR(count, 500, 58);
}

TEST(Tsne, NeighbourLabelAgreementOnALine) {
  // Points 0 1 2 | 10 11 12 with labels a a b | b b b. k = 1: 0->1 hit; 1 ties 0 and 2 and takes
  // the lower index 0, a hit; 2->1 miss; 10->11, 11->10 (tie), 12->11 hits: 5 of 6.
  const at::Tensor points = torch::tensor({0.0, 1.0, 2.0, 10.0, 11.0, 12.0}).unsqueeze(1);
  const at::Tensor labels = torch::tensor({0, 0, 1, 1, 1, 1}, torch::kInt64);
  EXPECT_DOUBLE_EQ(neighbour_label_agreement(points, labels, 1), 5.0 / 6.0);
  // k = 2: 0 {1 a, 2 b}; 1 {0 a, 2 b}; 2 {1 a, 0 a}; the right group all hits: (1+1+0+6)/12.
  EXPECT_DOUBLE_EQ(neighbour_label_agreement(points, labels, 2), 8.0 / 12.0);
  EXPECT_THROW(neighbour_label_agreement(points, labels, 6), c10::Error);
  EXPECT_THROW(neighbour_label_agreement(points, labels.narrow(0, 0, 5), 1), c10::Error);
  EXPECT_THROW(neighbour_label_agreement(points, labels.to(torch::kFloat32), 1), c10::Error);
}

TEST(Tsne, RunsOnTheGpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const Clusters data = gaussian_clusters(8, 40, 50, 7);
  TsneOptions options;
  options.iterations = 500;
  const at::Tensor map = tsne(data.points.to(torch::kCUDA), options);
  EXPECT_TRUE(map.is_cuda());
  EXPECT_GE(neighbour_label_agreement(map, data.labels.to(torch::kCUDA), 5), 0.95);
  const at::Tensor p = conditional_affinities(data.points.to(torch::kCUDA), 30.0);
  EXPECT_TRUE(torch::allclose(p.cpu(), conditional_affinities(data.points, 30.0), 1e-5, 1e-7));
}

}  // namespace
}  // namespace cltci::analysis
