// Per-chunk row reductions of the chunked contrastive loss (private to src/ssl).
//
// A chunk is c anchor rows against all Nk keys: logits [c, Nk] = Q_c K^T / tau. Which entries
// count, and with what positive weight, is never stored as a mask or weight matrix: it is derived
// on the fly from the key validity, the self column, the patient ids and the positive rule's
// attributes (times, studies, image identities), so a chunk costs only its logits.
#pragma once

#include "cltci/build_info.h"
#include "cltci/ssl/positives.h"

#include <ATen/core/Tensor.h>
#include <c10/macros/Macros.h>

#include <cmath>
#include <cstdint>

namespace cltci::ssl::detail {

/// What decides, for row r and key j of a chunk, whether the logit counts and its positive
/// weight w_rj. Key j is excluded when key_valid[j] is false or j == self_col0 + r (the anchor
/// itself) with has_self. A kept key has w_rj = 0 unless match_ids; then w_rj = 1 when
/// anchor_images[r] == key_images[j] >= 0 (one image), else 0 when the ids differ, else the
/// rule's weight (positive_weights in positives.h is the reference).
struct ChunkMask {
  at::Tensor anchor_ids;  ///< [c] int64, the chunk's rows (undefined when !match_ids)
  at::Tensor key_ids;     ///< [Nk] int64 (undefined when !match_ids)
  at::Tensor key_valid;   ///< [Nk] bool, undefined = all valid
  bool has_self = false;
  std::int64_t self_col0 = 0;
  bool match_ids = true;
  PositiveRule rule = PositiveRule::kPatient;
  double max_days = 0.0;         ///< kWindow
  double time_scale_days = 1.0;  ///< kWeighted
  at::Tensor anchor_days;        ///< [c] float64, NaN = undated (kWindow, kWeighted)
  at::Tensor key_days;           ///< [Nk] float64
  at::Tensor anchor_studies;     ///< [c] int64, -1 = unknown (kStudy)
  at::Tensor key_studies;        ///< [Nk] int64
  at::Tensor anchor_images;      ///< [c] int64, < 0 = unknown; undefined: no same-image rule
  at::Tensor key_images;         ///< [Nk] int64, defined together with anchor_images
};

/// A ChunkMask as raw pointers, the form the CPU pass and the CUDA kernels read: both decide
/// exclusion and weights through the functions below, so they cannot drift apart.
struct MaskPointers {
  const std::int64_t* anchor_ids = nullptr;
  const std::int64_t* key_ids = nullptr;
  const bool* key_valid = nullptr;
  const double* anchor_days = nullptr;
  const double* key_days = nullptr;
  const std::int64_t* anchor_studies = nullptr;
  const std::int64_t* key_studies = nullptr;
  const std::int64_t* anchor_images = nullptr;
  const std::int64_t* key_images = nullptr;
  bool has_self = false;
  std::int64_t self_col0 = 0;
  bool match_ids = false;
  PositiveRule rule = PositiveRule::kPatient;
  double max_days = 0.0;
  double time_scale_days = 1.0;
};

/// Checks that every tensor the mask uses is contiguous, on `device` and sized for a chunk of
/// rows x cols, and returns its pointers. valid_holder keeps a contiguous key_valid alive.
MaskPointers mask_pointers(const ChunkMask& mask,
                           std::int64_t rows,
                           std::int64_t cols,
                           const at::Device& device,
                           at::Tensor& valid_holder);

C10_HOST_DEVICE inline bool pair_kept(const MaskPointers& m, std::int64_t r, std::int64_t j) {
  if (m.key_valid != nullptr && !m.key_valid[j]) return false;
  return !(m.has_self && j == m.self_col0 + r);
}

/// w_rj of a kept pair with match_ids, for a rule fixed at compile time (the CPU pass
/// instantiates one loop per rule). Mirrors positive_weights: same image first, then the id, then
/// the rule; NaN days fail both tests; differences in double.
template <PositiveRule kRule>
C10_HOST_DEVICE inline double rule_weight(const MaskPointers& m, std::int64_t r, std::int64_t j) {
  if (m.anchor_images != nullptr) {
    const std::int64_t image = m.anchor_images[r];
    if (image >= 0 && image == m.key_images[j]) return 1.0;
  }
  if (m.anchor_ids[r] != m.key_ids[j]) return 0.0;
  if constexpr (kRule == PositiveRule::kPatient) {
    return 1.0;
  } else if constexpr (kRule == PositiveRule::kStudy) {
    const std::int64_t study = m.anchor_studies[r];
    return study >= 0 && study == m.key_studies[j] ? 1.0 : 0.0;
  } else {
    const double dt = ::fabs(m.anchor_days[r] - m.key_days[j]);
    if constexpr (kRule == PositiveRule::kWindow) {
      return dt <= m.max_days ? 1.0 : 0.0;
    } else {
      return dt == dt ? ::exp(-dt / m.time_scale_days) : 0.0;
    }
  }
}

/// rule_weight with the rule chosen at run time (the CUDA kernels: a branch uniform per launch).
C10_HOST_DEVICE inline double pair_weight(const MaskPointers& m, std::int64_t r, std::int64_t j) {
  switch (m.rule) {
    case PositiveRule::kStudy:
      return rule_weight<PositiveRule::kStudy>(m, r, j);
    case PositiveRule::kWindow:
      return rule_weight<PositiveRule::kWindow>(m, r, j);
    case PositiveRule::kWeighted:
      return rule_weight<PositiveRule::kWeighted>(m, r, j);
    case PositiveRule::kPatient:
    default:
      return rule_weight<PositiveRule::kPatient>(m, r, j);
  }
}

/// Forward statistics over the kept keys of each row: log-sum-exp (-inf for a row without kept
/// keys), the weighted sum of positive logits sum_j w_rj s_rj and the weight sum sum_j w_rj (the
/// number of positives for 0/1 rules). `logits` is float or double, contiguous; the CPU path
/// overwrites excluded entries with -inf.
struct ChunkStats {
  at::Tensor lse;
  at::Tensor pos_sum;
  at::Tensor pos_count;
};
ChunkStats chunk_forward_stats(at::Tensor& logits, const ChunkMask& mask);

/// Turns the chunk's logits in place into dLoss/dlogits:
///   (exp(s_rj - lse_r) - w_rj * inv_count_r) * weight_r  for kept keys, 0 otherwise
/// (inv_count_r = 1 / sum_j w_rj; weight_r the row's share of the incoming gradient).
/// lse must be finite (any finite value for rows of weight 0).
void chunk_backward_coefficients(at::Tensor& logits,
                                 const ChunkMask& mask,
                                 const at::Tensor& lse,
                                 const at::Tensor& inv_count,
                                 const at::Tensor& weight);

#if CLTCI_WITH_CUDA
ChunkStats chunk_forward_stats_cuda(const at::Tensor& logits, const ChunkMask& mask);
void chunk_backward_coefficients_cuda(at::Tensor& logits,
                                      const ChunkMask& mask,
                                      const at::Tensor& lse,
                                      const at::Tensor& inv_count,
                                      const at::Tensor& weight);
#endif

}  // namespace cltci::ssl::detail
