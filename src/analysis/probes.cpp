#include "cltci/analysis/probes.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace cltci::analysis {
namespace {

void check_inputs(const at::Tensor& embeddings, const at::Tensor& patients, const char* who) {
  TORCH_CHECK(embeddings.dim() == 2, who, ": embeddings must be [N, D], got ", embeddings.sizes());
  TORCH_CHECK(patients.dim() == 1 && patients.size(0) == embeddings.size(0), who,
              ": patients must be [N] with N = ", embeddings.size(0), ", got ", patients.sizes());
}

/// Rows on the unit sphere, in float64 so that ranks and tie-breaking do not depend on the
/// device's float32 reductions.
at::Tensor unit_rows(const at::Tensor& embeddings) {
  const at::Tensor x = embeddings.detach().to(torch::kFloat64);
  return x / x.norm(2, 1, true).clamp_min(1e-12);
}

}  // namespace

double random_average_precision(std::int64_t items, std::int64_t relevant) {
  TORCH_CHECK(items >= 1 && relevant >= 1 && relevant <= items,
              "random_average_precision: need 1 <= relevant <= items, got ", relevant, " of ",
              items);
  if (items == 1) return 1.0;
  // E[AP] = (1/R) sum_i E[rel_i * hits(<= i)] / i, with E[rel_i rel_j] = R(R-1)/(N(N-1)).
  double sum = 0.0;
  const auto n = static_cast<double>(items);
  const auto r = static_cast<double>(relevant);
  for (std::int64_t i = 1; i <= items; ++i) {
    const auto k = static_cast<double>(i);
    sum += 1.0 / k + (r - 1.0) * (k - 1.0) / ((n - 1.0) * k);
  }
  return sum / n;
}

RetrievalScores patient_retrieval(const at::Tensor& embeddings, const at::Tensor& patients) {
  check_inputs(embeddings, patients, "patient_retrieval");
  RetrievalScores scores;
  const std::int64_t n = embeddings.size(0);
  if (n < 2) return scores;
  const at::Tensor unit = unit_rows(embeddings);
  at::Tensor similarity = torch::mm(unit, unit.t());
  similarity.fill_diagonal_(-std::numeric_limits<double>::infinity());
  // A stable descending sort ranks equal similarities by index, lower first.
  const at::Tensor order = std::get<1>(similarity.sort(/*stable=*/true, 1, /*descending=*/true))
                               .to(torch::kCPU)
                               .contiguous();
  const at::Tensor ids = patients.to(torch::kCPU, torch::kInt64).contiguous();
  const auto* id = ids.data_ptr<std::int64_t>();
  const auto* rank = order.data_ptr<std::int64_t>();

  std::vector<std::int64_t> count_by_row(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) count_by_row[i] += (id[j] == id[i]) ? 1 : 0;
  }
  double top1 = 0.0, ap_sum = 0.0, top1_chance = 0.0, map_chance = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t relevant = count_by_row[i] - 1;
    if (relevant < 1) continue;
    ++scores.queries;
    const std::int64_t* row = rank + i * n;
    // The query itself sits last (similarity -inf): only the first n - 1 entries are ranked.
    top1 += id[row[0]] == id[i] ? 1.0 : 0.0;
    std::int64_t hits = 0;
    double precision_sum = 0.0;
    for (std::int64_t k = 0; k < n - 1 && hits < relevant; ++k) {
      if (id[row[k]] == id[i]) {
        ++hits;
        precision_sum += static_cast<double>(hits) / static_cast<double>(k + 1);
      }
    }
    ap_sum += precision_sum / static_cast<double>(relevant);
    top1_chance += static_cast<double>(relevant) / static_cast<double>(n - 1);
    map_chance += random_average_precision(n - 1, relevant);
  }
  if (scores.queries > 0) {
    const auto q = static_cast<double>(scores.queries);
    scores.top1 = top1 / q;
    scores.map = ap_sum / q;
    scores.top1_chance = top1_chance / q;
    scores.map_chance = map_chance / q;
  }
  return scores;
}

double effective_rank(const at::Tensor& embeddings) {
  TORCH_CHECK(embeddings.dim() == 2, "effective_rank: embeddings must be [N, D], got ",
              embeddings.sizes());
  if (embeddings.size(0) < 2) return 1.0;
  const at::Tensor x = embeddings.detach().to(torch::kFloat64);
  const at::Tensor centred = x - x.mean(0, true);
  const at::Tensor singular = torch::linalg_svdvals(centred).to(torch::kCPU);
  const double total = singular.sum().item<double>();
  // Relative to the embedding's own scale: below this every row is the same point.
  const double scale = x.abs().max().item<double>();
  if (!(total > 1e-9 * std::max(scale, 1e-30) * static_cast<double>(x.size(0)))) return 1.0;
  const at::Tensor p = singular / total;
  const at::Tensor terms = torch::where(p > 0, -p * torch::log(p), torch::zeros_like(p));
  return std::exp(terms.sum().item<double>());
}

EmbeddingProbe probe_embeddings(const at::Tensor& embeddings, const at::Tensor& patients) {
  check_inputs(embeddings, patients, "probe_embeddings");
  EmbeddingProbe probe;
  probe.images = embeddings.size(0);
  probe.dims = embeddings.size(1);
  probe.retrieval = patient_retrieval(embeddings, patients);
  const at::Tensor unit = unit_rows(embeddings);
  // On the sphere, as every other figure here: a scale change is not a change of rank.
  probe.effective_rank = effective_rank(unit);
  const std::int64_t n = embeddings.size(0);
  if (n < 2) return probe;
  const at::Tensor cosine = torch::mm(unit, unit.t());
  const at::Tensor ids = patients.to(unit.device(), torch::kInt64);
  const at::Tensor off_diagonal =
      ~torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(unit.device()));
  const at::Tensor same = (ids.unsqueeze(0) == ids.unsqueeze(1)) & off_diagonal;
  const at::Tensor different = ids.unsqueeze(0) != ids.unsqueeze(1);
  // On the unit sphere ||u - v||^2 = 2 - 2 cos(u, v).
  const at::Tensor squared_distance = (2.0 - 2.0 * cosine).clamp_min(0.0);
  const auto masked_mean = [](const at::Tensor& values, const at::Tensor& mask) {
    const double count = mask.sum().item<double>();
    return count > 0 ? values.masked_select(mask).sum().item<double>() / count : 0.0;
  };
  probe.positive_cosine = masked_mean(cosine, same);
  probe.negative_cosine = masked_mean(cosine, different);
  probe.alignment = masked_mean(squared_distance, same);
  // log-mean-exp over the i != j pairs, stable for well-spread embeddings.
  const at::Tensor exponents = (-2.0 * squared_distance).masked_select(off_diagonal);
  probe.uniformity =
      (torch::logsumexp(exponents, 0) - std::log(static_cast<double>(exponents.numel())))
          .item<double>();
  return probe;
}

std::optional<std::string> CollapseDetector::observe_loss(double mean_loss, double collapse_loss) {
  if (!(collapse_loss > 0.0) || !std::isfinite(mean_loss)) return std::nullopt;
  const bool near = std::abs(mean_loss - collapse_loss) <= options_.loss_tolerance * collapse_loss;
  loss_streak_ = near ? loss_streak_ + 1 : 0;
  if (loss_warned_ || loss_streak_ < options_.patience) return std::nullopt;
  loss_warned_ = true;
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "collapse: the loss has stayed within %.0f %% of its collapse value %.4f (all "
                "logits equal) for %lld epochs; the encoder is not telling images apart. Try "
                "weaker augmentation (augment.*), a lower optim.lr, a smaller method.queue_size "
                "than the data set, or a larger method.temperature",
                100.0 * options_.loss_tolerance, collapse_loss,
                static_cast<long long>(loss_streak_));
  return std::string(buffer);
}

std::optional<std::string> CollapseDetector::observe_rank(double rank) {
  rank_streak_ = rank < options_.min_effective_rank ? rank_streak_ + 1 : 0;
  if (rank_warned_ || rank_streak_ < options_.patience) return std::nullopt;
  rank_warned_ = true;
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "collapse: the probe embedding's effective rank has stayed below %.1f (now %.2f) "
                "for %lld probes; the embeddings occupy too few directions. Try a lower "
                "optim.lr, weaker augmentation or a larger method.temperature",
                options_.min_effective_rank, rank, static_cast<long long>(rank_streak_));
  return std::string(buffer);
}

}  // namespace cltci::analysis
