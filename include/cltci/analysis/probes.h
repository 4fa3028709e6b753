// Representation probes: what a pre-trained encoder's embedding of un-augmented images says
// about patient identity, before any fine-tuning is spent on it. Same-patient retrieval (the
// paper's premise: images of one patient should be neighbours), the cosine gap between
// same-patient and other pairs, Wang & Isola's alignment/uniformity (ICML 2020), and the
// effective rank of Roy & Vetterli (2007), which falls towards 1 when an embedding collapses.
// Pure functions of tensors: no I/O, CPU or CUDA alike.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>

namespace cltci::analysis {

/// Leave-one-out nearest-neighbour retrieval over cosine similarity. Queries are the images
/// whose patient has at least one other image in the set; the relevant items of a query are the
/// other images of its patient.
struct RetrievalScores {
  double top1 = 0.0;         ///< share of queries whose nearest neighbour is of their patient
  double map = 0.0;          ///< mean average precision of the full ranking
  double top1_chance = 0.0;  ///< expected top1 of a random ranking: mean of (n_p - 1)/(N - 1)
  double map_chance = 0.0;   ///< expected mAP of a random ranking (exact, not simulated)
  std::int64_t queries = 0;  ///< images whose patient has >= 2 images
};

/// `embeddings` [N, D] (any scale: rows are L2-normalised inside), `patients` [N] int64.
/// Ties in similarity are broken by index (lower first), so results are deterministic.
RetrievalScores patient_retrieval(const at::Tensor& embeddings, const at::Tensor& patients);

/// Expected average precision of a uniformly random ranking of `items` items of which
/// `relevant` are relevant (Bestgen 2015): (1/N) sum_i [1/i + (R-1)(i-1)/((N-1) i)].
double random_average_precision(std::int64_t items, std::int64_t relevant);

/// Entropy-based effective rank exp(H(p)), p = singular values / their sum, of the centred
/// embedding matrix; 1.0 when every row is the same (full collapse).
double effective_rank(const at::Tensor& embeddings);

struct EmbeddingProbe {
  RetrievalScores retrieval;
  double positive_cosine = 0.0;  ///< mean cosine over same-patient pairs (i != j)
  double negative_cosine = 0.0;  ///< mean cosine over pairs of different patients
  double alignment = 0.0;        ///< E_same-patient ||f(x) - f(y)||^2 on the unit sphere
  double uniformity = 0.0;       ///< log E_all pairs exp(-2 ||f(x) - f(y)||^2)
  double effective_rank = 0.0;
  std::int64_t images = 0;
  std::int64_t dims = 0;
};

/// Every probe figure of one embedding (rows L2-normalised inside).
EmbeddingProbe probe_embeddings(const at::Tensor& embeddings, const at::Tensor& patients);

/// When the pre-training loss stays within `loss_tolerance` (relative) of its collapse value
/// (the loss of all-equal logits: log of the number of valid contrast entries), or the
/// embedding's effective rank stays below `min_effective_rank`, for `patience` consecutive
/// observations, warn once per cause.
struct CollapseOptions {
  double loss_tolerance = 0.02;
  double min_effective_rank = 2.0;
  std::int64_t patience = 5;
};

class CollapseDetector {
 public:
  explicit CollapseDetector(CollapseOptions options = {}) : options_(options) {}

  /// An epoch's mean loss beside its collapse value (skipped when collapse_loss <= 0). Returns
  /// the warning line the first time the rule fires, nothing otherwise.
  std::optional<std::string> observe_loss(double mean_loss, double collapse_loss);
  /// A probe's effective rank. Returns the warning line the first time the rule fires.
  std::optional<std::string> observe_rank(double rank);

  std::int64_t loss_streak() const { return loss_streak_; }
  std::int64_t rank_streak() const { return rank_streak_; }

 private:
  CollapseOptions options_;
  std::int64_t loss_streak_ = 0;
  std::int64_t rank_streak_ = 0;
  bool loss_warned_ = false;
  bool rank_warned_ = false;
};

}  // namespace cltci::analysis
