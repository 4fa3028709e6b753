// Supervised contrastive loss (paper eq. 2) shared by CL-TCI-SimCLR, SimCLR (NT-Xent), CL-TCI-MoCo
// and MoCo.
//
// For anchor i with positive set P(i) and denominator set A(i) (every valid key but the anchor
// itself):
//   loss_i = -1/|P(i)| * sum_{p in P(i)} log( exp(s_ip) / sum_{a in A(i)} exp(s_ia) ),
//   s_ij   = cos(q_i, k_j) / tau,
// and the loss is the mean of loss_i over the anchors that have at least one positive, times
// tau/base_tau when a base temperature is given (the authors' code always scales by 0.1/0.07; we
// default to no scaling, so the value is eq. 2 itself). An anchor without positive carries no
// signal in eq. 2 (its numerator is empty) and is left out of the mean; when no anchor has a
// positive the loss is 0 with zero gradients.
//
// Features are L2-normalised inside (eq. 2 uses cosine similarity) unless `normalize` is off, in
// which case the caller guarantees unit rows. Two computations give the same values and
// gradients: the full-matrix one (plain autograd ops, N x K logits alive at once) and the chunked
// one (a custom autograd function that walks anchor rows in chunks in forward and backward and
// keeps only O(chunk x K) memory; on CUDA tensors its per-chunk reductions are fused kernels).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

namespace cltci::ssl {

/// Which computation evaluates the loss.
enum class LossPath {
  kAuto,     ///< full matrix when the logits fit in the memory budget, chunked otherwise
  kFull,     ///< the reference: plain autograd ops over the whole N x K matrix
  kChunked,  ///< memory-bounded: anchor-row chunks, recomputed in backward
};

struct SupConOptions {
  /// tau in eq. 2 (the paper: 0.1). Must be > 0.
  double temperature = 0.1;
  /// When set, the loss is multiplied by tau/base_tau as in the authors' code (0.07 there, which
  /// scales the loss and its gradients by ~1.43). Unset: eq. 2 unscaled.
  std::optional<double> base_temperature;
  /// L2-normalise anchors and keys inside (through autograd). Off: rows must already be unit.
  bool normalize = true;
  LossPath path = LossPath::kAuto;
  /// Bytes the chunked path may spend on one chunk of logits (and the full path's limit in kAuto).
  std::int64_t memory_budget_bytes = std::int64_t{256} << 20;
  /// Anchor rows per chunk; 0 derives it from memory_budget_bytes.
  std::int64_t chunk_rows = 0;
  /// TF32 for the similarity matmuls on CUDA. Off by default: logits are divided by a small tau
  /// and the LSE amplifies TF32's 10-bit mantissa error. (LibTorch has no per-call switch: the
  /// process-wide cuBLAS flag is set for the loss's matmuls and restored afterwards.)
  bool allow_tf32 = false;
};

/// The general form. anchors [Nq, D]; keys [Nk, D]; anchor_ids [Nq] and key_ids [Nk] int64
/// (patient ids: equal ids are positives). key_valid [Nk] bool or undefined (all valid): invalid
/// keys are neither positives nor negatives. self_offset: anchor i is the same sample as key
/// i + self_offset, excluded from numerator and denominator (0 when keys are the anchors
/// themselves; the rank's row offset when keys are gathered from several processes; nullopt when
/// no key is an anchor). own_keys [Nq, D] or undefined: one extra key per anchor that is always a
/// positive of that anchor only (MoCo's k+). match_ids false: only own_keys are positives
/// (vanilla MoCo), ids are ignored.
struct ContrastiveInputs {
  at::Tensor anchors;
  at::Tensor keys;
  at::Tensor anchor_ids;
  at::Tensor key_ids;
  at::Tensor key_valid;
  std::optional<std::int64_t> self_offset;
  at::Tensor own_keys;
  bool match_ids = true;
};

/// The loss of ContrastiveInputs: a 0-dim tensor with autograd, float64 for double features and
/// float32 otherwise (bf16/fp16 features are upcast; their gradients come back in their dtype).
at::Tensor contrastive_loss(const ContrastiveInputs& inputs, const SupConOptions& options = {});

/// SupCon / CL-TCI-SimCLR: features [N, V, D] (V augmented views of N images, as in the authors'
/// code), labels [N] int64 patient ids. All N*V views are anchors and keys; positives are the
/// other views of the same image and every view of the same patient. An undefined `labels` gives
/// each image its own label: NT-Xent (vanilla SimCLR).
at::Tensor supcon_loss(const at::Tensor& features,
                       const at::Tensor& labels,
                       const SupConOptions& options = {});

/// Which queue entries are positives in the MoCo loss.
enum class MoCoPositives {
  kOwnKey,   ///< vanilla MoCo: only the query's own key
  kPatient,  ///< CL-TCI-MoCo: the own key plus valid queue entries of the same patient
};

/// MoCo: queries [B, D] (with grad) against [own key, queue]. keys [B, D] are the key encoder's
/// outputs for the other view (used without gradient); queue_keys [Kq, D], queue_ids [Kq],
/// queue_valid [Kq] bool come from a MoCoQueue. The queue entries are detached.
at::Tensor moco_loss(const at::Tensor& queries,
                     const at::Tensor& keys,
                     const at::Tensor& query_ids,
                     const at::Tensor& queue_keys,
                     const at::Tensor& queue_ids,
                     const at::Tensor& queue_valid,
                     MoCoPositives positives,
                     const SupConOptions& options = {});

/// Anchor rows per chunk that keep one chunk of logits within budget_bytes (at least 1).
std::int64_t chunk_rows_for_budget(std::int64_t num_keys,
                                   std::int64_t budget_bytes,
                                   std::int64_t bytes_per_logit);

}  // namespace cltci::ssl
