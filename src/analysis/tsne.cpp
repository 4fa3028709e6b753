#include "cltci/analysis/tsne.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace cltci::analysis {
namespace {

// scikit-learn's constants (sklearn/manifold/_utils.pyx, _t_sne.py).
constexpr int kBisectionSteps = 100;
constexpr double kEntropyTolerance = 1e-5;  // nats
constexpr double kMinGain = 0.01;
constexpr double kInitialStd = 1e-4;
constexpr double kMomentumExaggerated = 0.5;
constexpr double kMomentumFinal = 0.8;

// Row blocks of the float64 distance matrix stay near 32 MB, so that N = 5000 does not need the
// 200 MB of a full float64 N x N matrix (plus temporaries) at once.
constexpr std::int64_t kBlockElements = std::int64_t{1} << 22;

std::int64_t block_rows(std::int64_t n) { return std::max<std::int64_t>(1, kBlockElements / n); }

/// SplitMix64 with explicit normals: the initial map and the subsample are then the same on
/// every platform and torch version (std:: distributions are implementation-defined).
class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : state_(common::mix64(seed)) {}
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return common::mix64(state_);
  }
  double uniform() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }
  /// Uniform integer in [0, bound); the modulo bias is below bound / 2^64, nil for our sizes.
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: the log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

void check_points(const at::Tensor& points, const char* who) {
  TORCH_CHECK(points.defined() && points.dim() == 2 && points.size(1) >= 1, who,
              ": points must be [N, D] with D >= 1, got ",
              points.defined() ? points.sizes() : at::IntArrayRef{});
  TORCH_CHECK(!points.is_complex(), who, ": complex points are not supported");
}

void check_finite(const at::Tensor& x, const char* who) {
  TORCH_CHECK(at::isfinite(x).all().item<bool>(), who, ": points hold NaN or infinite values");
}

void check_perplexity(std::int64_t n, double perplexity) {
  if (n < 4) throw common::InputError(c10::str("t-SNE needs at least 4 points, got ", n));
  if (!(std::isfinite(perplexity) && perplexity >= 1.0)) {
    throw common::InputError(c10::str("t-SNE perplexity must be >= 1, got ", perplexity));
  }
  // The same arithmetic as max_perplexity, so that a caller clamping to it is always accepted.
  if (perplexity > max_perplexity(n)) {
    throw common::InputError(c10::str("t-SNE perplexity ", perplexity, " needs at least ",
                                      static_cast<std::int64_t>(std::ceil(3.0 * perplexity)) + 1,
                                      " points, got ", n, " (the largest perplexity for ", n,
                                      " points is ", max_perplexity(n), ")"));
  }
}

void check_options(std::int64_t n, const TsneOptions& options) {
  std::vector<std::string> problems;
  if (options.max_points < 1) {
    problems.push_back(c10::str("t-SNE max_points must be >= 1, got ", options.max_points));
  } else if (n > options.max_points) {
    problems.push_back(c10::str("t-SNE is exact (O(N^2) memory and time): ", n,
                                " points exceed max_points = ", options.max_points,
                                "; subsample them (subsample_indices) or raise the limit"));
  }
  if (options.iterations < 1) {
    problems.push_back(c10::str("t-SNE iterations must be >= 1, got ", options.iterations));
  }
  if (options.exaggeration_iterations < 0) {
    problems.push_back(c10::str("t-SNE exaggeration_iterations must be >= 0, got ",
                                options.exaggeration_iterations));
  }
  if (!(std::isfinite(options.early_exaggeration) && options.early_exaggeration >= 1.0)) {
    problems.push_back(
        c10::str("t-SNE early_exaggeration must be >= 1, got ", options.early_exaggeration));
  }
  if (!(std::isfinite(options.learning_rate) && options.learning_rate >= 0.0)) {
    problems.push_back(
        c10::str("t-SNE learning_rate must be >= 0 (0 = auto), got ", options.learning_rate));
  }
  if (!problems.empty()) throw common::InputError(std::move(problems));
  check_perplexity(n, options.perplexity);
}

/// Squared Euclidean distances [end - begin, N] from rows [begin, end) of `x` to all its rows.
at::Tensor squared_distances(const at::Tensor& x,
                             const at::Tensor& squared_norms,
                             std::int64_t begin,
                             std::int64_t end) {
  const at::Tensor rows = x.narrow(0, begin, end - begin);
  at::Tensor d = at::addmm(squared_norms.unsqueeze(0), rows, x.t(), 1.0, -2.0);
  d.add_(squared_norms.narrow(0, begin, end - begin).unsqueeze(1));
  return d.clamp_min_(0.0);  // |a|^2 + |b|^2 - 2ab cancels to slightly below 0 for a ~ b
}

at::Tensor initial_map(std::int64_t n, std::uint64_t seed, const at::Device& device) {
  SplitMix rng(seed);
  std::vector<float> values(static_cast<std::size_t>(2 * n));
  for (float& v : values) v = static_cast<float>(kInitialStd * rng.normal());
  return torch::from_blob(values.data(), {n, 2}, torch::kFloat32).clone().to(device);
}

/// The N x N buffers of kl_gradient, reused across steps: allocating them anew each step cost
/// more than the arithmetic on the CPU (fresh pages are faulted in on every step).
struct GradientWorkspace {
  at::Tensor w;
  at::Tensor a;
};

/// dC/dy of KL(P || Q) for the Student-t (one degree of freedom) kernel, with P scaled by
/// `exaggeration` (van der Maaten & Hinton 2008, eq. 5): with w_ij = 1 / (1 + |y_i - y_j|^2) and
/// Z = sum w, dC/dy_i = 4 sum_j (e p_ij - w_ij / Z) w_ij (y_i - y_j)
///                    = 4 [e g(p * w) - g(w * w) / Z],  g(m)_i = rowsum(m)_i y_i - (m y)_i.
/// One product of each matrix with [y | 1] yields both m y and the row sums: eight passes over
/// N x N floats per step, no [N, N, 2] tensor.
at::Tensor kl_gradient(const at::Tensor& p,
                       const at::Tensor& y,
                       double exaggeration,
                       GradientWorkspace& workspace) {
  at::Tensor& w = workspace.w;
  const at::Tensor squared_norms = (y * y).sum(1);
  at::addmm_out(w, (squared_norms + 1.0).unsqueeze(0), y, y.t(), 1.0, -2.0);
  w.add_(squared_norms.unsqueeze(1)).reciprocal_();
  w.fill_diagonal_(0.0);
  const at::Tensor z = w.sum();
  const at::Tensor y_and_one = at::cat({y, at::ones({y.size(0), 1}, y.options())}, 1);
  at::mul_out(workspace.a, p, w);
  const at::Tensor attraction = workspace.a.mm(y_and_one);
  w.mul_(w);
  const at::Tensor repulsion = w.mm(y_and_one);
  const auto g = [&](const at::Tensor& m) { return m.narrow(1, 2, 1) * y - m.narrow(1, 0, 2); };
  return (g(attraction) * exaggeration - g(repulsion) / z) * 4.0;
}

}  // namespace

double max_perplexity(std::int64_t points) {
  TORCH_CHECK(points >= 1, "max_perplexity: need at least one point, got ", points);
  return static_cast<double>(points - 1) / 3.0;
}

at::Tensor conditional_affinities(const at::Tensor& points, double perplexity) {
  check_points(points, "conditional_affinities");
  const std::int64_t n = points.size(0);
  check_perplexity(n, perplexity);
  const torch::NoGradGuard no_grad;
  const at::Tensor x = points.detach().to(torch::kFloat64).contiguous();
  check_finite(x, "conditional_affinities");
  const at::Tensor squared_norms = (x * x).sum(1);
  const double target = std::log(perplexity);
  at::Tensor out = torch::empty({n, n}, x.options().dtype(torch::kFloat32));
  const double infinity = std::numeric_limits<double>::infinity();
  for (std::int64_t begin = 0; begin < n; begin += block_rows(n)) {
    const std::int64_t end = std::min(n, begin + block_rows(n));
    at::Tensor s = squared_distances(x, squared_norms, begin, end);
    // Row element (i, begin + i) is the point itself: on the block's diagonal at offset begin.
    at::Tensor self = s.diagonal(begin);
    self.fill_(infinity);
    // Shifting each row by its nearest distance leaves p_{j|i} unchanged but keeps the nearest
    // weight at exp(0) = 1: no underflow to 0/0 for far-apart points or large bandwidths.
    s.sub_(s.amin(1, true));
    self.fill_(0.0);
    const at::Tensor mean = s.sum(1) / static_cast<double>(n - 1);
    // Start the precision beta at 1 / mean distance (scale-free) rather than scikit-learn's 1.
    at::Tensor beta = at::where(mean > 0.0, mean.reciprocal(), at::ones_like(mean));
    at::Tensor low = at::zeros_like(beta);
    at::Tensor high = at::full_like(beta, infinity);
    at::Tensor w;
    at::Tensor sum;
    for (int step = 0; step < kBisectionSteps; ++step) {
      w = at::exp(s * beta.neg().unsqueeze(1));
      w.diagonal(begin).zero_();
      sum = w.sum(1);
      // H = log Z + beta E[d]: the entropy (nats) of p_j ~ exp(-beta d_j).
      const at::Tensor entropy = sum.log() + beta * (s * w).sum(1) / sum;
      const at::Tensor excess = entropy - target;
      const at::Tensor open = excess.abs() > kEntropyTolerance;
      if (!open.any().item<bool>()) break;
      // Entropy too high: the Gaussian is too wide, so sharpen it by raising beta (doubling it
      // until an upper bound is known); too low: flatten it. Converged rows keep their beta.
      const at::Tensor sharpen = open & (excess > 0.0);
      const at::Tensor flatten = open & (excess < 0.0);
      low = at::where(sharpen, beta, low);
      high = at::where(flatten, beta, high);
      const at::Tensor up = at::where(at::isinf(high), beta * 2.0, (beta + high) * 0.5);
      beta = at::where(sharpen, up, at::where(flatten, (beta + low) * 0.5, beta));
    }
    out.narrow(0, begin, end - begin).copy_(w / sum.unsqueeze(1));
  }
  return out;
}

at::Tensor tsne(const at::Tensor& points, const TsneOptions& options) {
  check_points(points, "tsne");
  const std::int64_t n = points.size(0);
  check_options(n, options);
  const torch::NoGradGuard no_grad;

  // Symmetrised joint affinities p_ij = (p_{j|i} + p_{i|j}) / 2N, floored at double epsilon as
  // scikit-learn does; the diagonal stays 0 so that self terms cancel exactly in the gradient.
  at::Tensor p = conditional_affinities(points, options.perplexity);
  p = p + p.t();
  p.div_(p.sum(torch::kFloat64).to(torch::kFloat32));
  p.clamp_min_(std::numeric_limits<double>::epsilon());
  p.fill_diagonal_(0.0);

  const double learning_rate =
      options.learning_rate > 0.0
          ? options.learning_rate
          : std::max(static_cast<double>(n) / options.early_exaggeration / 4.0, 50.0);
  at::Tensor y = initial_map(n, options.seed, p.device());
  at::Tensor update = torch::zeros_like(y);
  at::Tensor gains = torch::ones_like(y);
  GradientWorkspace workspace{torch::empty_like(p), torch::empty_like(p)};
  for (std::int64_t iteration = 0; iteration < options.iterations; ++iteration) {
    const bool exaggerating = iteration < options.exaggeration_iterations;
    const double momentum = exaggerating ? kMomentumExaggerated : kMomentumFinal;
    const at::Tensor gradient =
        kl_gradient(p, y, exaggerating ? options.early_exaggeration : 1.0, workspace);
    // Jacobs' (1988) delta-bar-delta gains of the reference implementation: grow a coordinate's
    // step while its gradient keeps opposing the last update, shrink it when they agree.
    const at::Tensor grow = (update * gradient) < 0.0;
    gains = at::where(grow, gains + 0.2, gains * 0.8).clamp_min_(kMinGain);
    update = update * momentum - gradient * gains * learning_rate;
    y.add_(update);
    // The gradient ignores translation; re-centring (as tsne.m does) keeps the map at the origin.
    y.sub_(y.mean(0, true));
  }
  if (!at::isfinite(y).all().item<bool>()) {
    throw common::Error(c10::str("t-SNE diverged (non-finite map) with learning rate ",
                                 learning_rate, " on ", n, " points"));
  }
  return y;
}

std::vector<std::int64_t> subsample_indices(std::int64_t total,
                                            std::int64_t n,
                                            std::uint64_t seed) {
  TORCH_CHECK(total >= 0 && n >= 0 && n <= total,
              "subsample_indices: need 0 <= n <= total, got n = ", n, " of ", total);
  std::vector<std::int64_t> indices(static_cast<std::size_t>(total));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  SplitMix rng(seed);
  // Partial Fisher-Yates: the first n slots become a uniform n-subset.
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng.below(indices.size() - i));
    std::swap(indices[i], indices[j]);
  }
  indices.resize(static_cast<std::size_t>(n));
  std::sort(indices.begin(), indices.end());
  return indices;
}

double neighbour_label_agreement(const at::Tensor& points,
                                 const at::Tensor& labels,
                                 std::int64_t k) {
  check_points(points, "neighbour_label_agreement");
  const std::int64_t n = points.size(0);
  TORCH_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n,
              "neighbour_label_agreement: labels must be [N] with N = ", n, ", got ",
              labels.defined() ? labels.sizes() : at::IntArrayRef{});
  TORCH_CHECK(!labels.is_floating_point() && !labels.is_complex(),
              "neighbour_label_agreement: labels must be integral, got ", labels.scalar_type());
  TORCH_CHECK(k >= 1 && k <= n - 1, "neighbour_label_agreement: need 1 <= k <= N - 1 = ", n - 1,
              ", got k = ", k);
  const torch::NoGradGuard no_grad;
  const at::Tensor x = points.detach().to(torch::kFloat64).contiguous();
  check_finite(x, "neighbour_label_agreement");
  const at::Tensor ids = labels.to(x.device(), torch::kInt64);
  const at::Tensor squared_norms = (x * x).sum(1);
  std::int64_t agreeing = 0;
  for (std::int64_t begin = 0; begin < n; begin += block_rows(n)) {
    const std::int64_t end = std::min(n, begin + block_rows(n));
    at::Tensor d = squared_distances(x, squared_norms, begin, end);
    d.diagonal(begin).fill_(std::numeric_limits<double>::infinity());
    // A stable sort ranks equal distances by index, so the result does not depend on topk's
    // device-specific tie order.
    const at::Tensor nearest =
        std::get<1>(d.sort(/*stable=*/true, 1, /*descending=*/false)).narrow(1, 0, k);
    const at::Tensor same = ids.index({nearest}) == ids.narrow(0, begin, end - begin).unsqueeze(1);
    agreeing += same.sum().item<std::int64_t>();
  }
  return static_cast<double>(agreeing) / static_cast<double>(n * k);
}

}  // namespace cltci::analysis
