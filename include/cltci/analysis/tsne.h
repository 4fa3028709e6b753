// Exact t-SNE (van der Maaten & Hinton, JMLR 2008) on torch tensor ops, for the paper's Fig. 3:
// a 2-D map of an encoder's image embeddings, where images of one patient should form a clump.
// The optimisation follows scikit-learn's exact method (itself the reference implementation's
// schedule): early exaggeration with momentum 0.5, then momentum 0.8, per-parameter gains.
// Exact means O(N^2) memory and time, hence the max_points limit; subsample above it.
// Runs on the device of its input (CPU or CUDA); on the CPU the map is bit-identical for a
// given seed and thread count.
//
// Errors: a tensor of the wrong shape or type is a c10::Error (a caller bug); sizes and options
// a user can change (too few points for the perplexity, too many for max_points, bad option
// values) are common::InputError.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace cltci::analysis {

/// Options of tsne(); the defaults are scikit-learn's. Example for a small set:
/// `TsneOptions o; o.perplexity = std::min(o.perplexity, max_perplexity(n)); tsne(x, o);`
struct TsneOptions {
  /// Effective number of neighbours of the Gaussian affinities; needs N >= 4 and
  /// 1 <= perplexity <= max_perplexity(N) = (N - 1) / 3.
  double perplexity = 30.0;
  std::int64_t iterations = 1000;    ///< gradient steps in all, exaggeration phase included
  double early_exaggeration = 12.0;  ///< factor on P during the first phase (>= 1)
  std::int64_t exaggeration_iterations = 250;  ///< length of that phase (momentum 0.5)
  /// Step size; 0 = scikit-learn's "auto": max(N / early_exaggeration / 4, 50).
  double learning_rate = 0.0;
  /// Seeds the initial map, N(0, (1e-4)^2) per coordinate (random init, not PCA), drawn by the
  /// toolkit's own SplitMix64 generator so that it does not depend on torch's generators.
  std::uint64_t seed = 0;
  /// Largest N accepted: the optimisation holds a few N x N float matrices (5000: ~100 MB each).
  std::int64_t max_points = 5000;
};

/// The largest perplexity tsne() accepts for `points` points: (N - 1) / 3, the reference
/// implementation's rule (each point needs about 3 * perplexity neighbours for its Gaussian's
/// bandwidth to be well determined; scikit-learn only asks for perplexity < N). Callers with small
/// sets clamp to it; tsne() accepts exactly this value.
double max_perplexity(std::int64_t points);

/// Conditional affinities p_{j|i} [N, N] float32 on the device of `points` [N, D]: row i is a
/// Gaussian over the squared Euclidean distances to the other points, its bandwidth found by
/// bisection (in float64, 100 steps, |H - log(perplexity)| <= 1e-5 nats) so that its entropy H
/// matches the perplexity; the diagonal is 0 and every row sums to 1.
at::Tensor conditional_affinities(const at::Tensor& points, double perplexity);

/// The 2-D t-SNE map [N, 2] float32 of `points` [N, D] (any floating or integral dtype), on the
/// device of `points`, centred at the origin.
at::Tensor tsne(const at::Tensor& points, const TsneOptions& options = {});

/// Indices of a seeded uniform subsample of `n` out of `total` (0 <= n <= total), sorted
/// ascending: for callers with more than max_points images.
std::vector<std::int64_t> subsample_indices(std::int64_t total, std::int64_t n, std::uint64_t seed);

/// Mean over points of the share of its `k` nearest neighbours (Euclidean, itself excluded, ties
/// broken by lower index) that carry its label. `points` [N, D], `labels` [N] integral,
/// 1 <= k <= N - 1. A measure of how well a map keeps the categories apart (1 = perfectly).
double neighbour_label_agreement(const at::Tensor& points,
                                 const at::Tensor& labels,
                                 std::int64_t k);

}  // namespace cltci::analysis
