// Per-chunk row reductions of the chunked contrastive loss (private to src/ssl).
//
// A chunk is c anchor rows against all Nk keys: logits [c, Nk] = Q_c K^T / tau. Which entries
// count is never stored as a mask: it is derived on the fly from the key validity, the self
// column and the patient ids, so a chunk costs only its logits.
#pragma once

#include "cltci/build_info.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace cltci::ssl::detail {

/// What decides, for row r and key j of a chunk, whether the logit counts and whether it is a
/// positive. Key j is excluded when key_valid[j] is false or j == self_col0 + r (the anchor
/// itself) with has_self; a kept key is a positive when match_ids and key_ids[j] == anchor_ids[r].
struct ChunkMask {
  at::Tensor anchor_ids;  ///< [c] int64, the chunk's rows (undefined when !match_ids)
  at::Tensor key_ids;     ///< [Nk] int64 (undefined when !match_ids)
  at::Tensor key_valid;   ///< [Nk] bool, undefined = all valid
  bool has_self = false;
  std::int64_t self_col0 = 0;
  bool match_ids = true;
};

/// Forward statistics over the kept keys of each row: log-sum-exp (-inf for a row without kept
/// keys), sum of positive logits and number of positives. `logits` is float or double,
/// contiguous; the CPU path overwrites excluded entries with -inf.
struct ChunkStats {
  at::Tensor lse;
  at::Tensor pos_sum;
  at::Tensor pos_count;
};
ChunkStats chunk_forward_stats(at::Tensor& logits, const ChunkMask& mask);

/// Turns the chunk's logits in place into dLoss/dlogits:
///   (exp(s_rj - lse_r) - [j positive] * inv_count_r) * weight_r  for kept keys, 0 otherwise.
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
