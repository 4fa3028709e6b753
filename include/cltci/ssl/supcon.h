// Supervised contrastive loss (paper eq. 2) shared by CL-TCI-SimCLR, SimCLR (NT-Xent), CL-TCI-MoCo
// and MoCo.
//
// For anchor i with positive weights w_ip (positives.h: 1 for every same-patient key under the
// paper's rule) and denominator set A(i) (every valid key but the anchor itself):
//   loss_i = -1/sum_p w_ip * sum_p w_ip log( exp(s_ip) / sum_{a in A(i)} exp(s_ia) ),
//   s_ij   = cos(q_i, k_j) / tau,
// which is eq. 2 when the weights are 0/1, and the loss is the mean of loss_i over the anchors
// whose weights do not sum to 0 (that have at least one positive), times
// tau/base_tau when a base temperature is given (the authors' code always scales by 0.1/0.07; we
// default to no scaling, so the value is eq. 2 itself). An anchor without positive carries no
// signal in eq. 2 (its numerator is empty) and is left out of the mean; when no anchor has a
// positive the loss is 0 with zero gradients. A weight of 0 is exactly "not a positive": the key
// stays in the denominator as a negative.
//
// Features are L2-normalised inside (eq. 2 uses cosine similarity) unless `normalize` is off, in
// which case the caller guarantees unit rows. Two computations give the same values and
// gradients: the full-matrix one (plain autograd ops, N x K logits alive at once) and the chunked
// one (a custom autograd function that walks anchor rows in chunks in forward and backward and
// keeps only O(chunk x K) memory; on CUDA tensors its per-chunk reductions are fused kernels).
#pragma once

#include "cltci/ssl/positives.h"

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
  /// Which same-patient keys are positives, with what weight (read only when ids are matched).
  PositiveOptions positives;
};

/// The general form. anchors [Nq, D]; keys [Nk, D]; anchor_ids [Nq] and key_ids [Nk] int64
/// (patient ids: equal ids are positives). key_valid [Nk] bool or undefined (all valid): invalid
/// keys are neither positives nor negatives. self_offset: anchor i is the same sample as key
/// i + self_offset, excluded from numerator and denominator (0 when keys are the anchors
/// themselves; the rank's row offset when keys are gathered from several processes; nullopt when
/// no key is an anchor). own_keys [Nq, D] or undefined: one extra key per anchor that is always a
/// positive of that anchor only (MoCo's k+), with weight 1. match_ids false: only own_keys are
/// positives (vanilla MoCo); ids, the positive rule and the attributes below are ignored.
///
/// The attributes the positive rule reads (SupConOptions::positives), undefined when not used:
/// days [Nq]/[Nk] floating (NaN = undated), required by window/weighted; studies integer (-1 =
/// unknown), required by study; images integer image identities (< 0 = unknown), optional but
/// given for both sides or neither: equal identities are positives with weight 1 whatever the
/// rule (SimCLR's two views of one image, an image met again in the MoCo queue).
struct ContrastiveInputs {
  at::Tensor anchors;
  at::Tensor keys;
  at::Tensor anchor_ids;
  at::Tensor key_ids;
  at::Tensor key_valid;
  std::optional<std::int64_t> self_offset;
  at::Tensor own_keys;
  bool match_ids = true;
  at::Tensor anchor_days;
  at::Tensor key_days;
  at::Tensor anchor_studies;
  at::Tensor key_studies;
  at::Tensor anchor_images;
  at::Tensor key_images;
};

/// The loss of ContrastiveInputs: a 0-dim tensor with autograd, float64 for double features and
/// float32 otherwise (bf16/fp16 features are upcast; their gradients come back in their dtype).
at::Tensor contrastive_loss(const ContrastiveInputs& inputs, const SupConOptions& options = {});

/// SupCon / CL-TCI-SimCLR: features [N, V, D] (V augmented views of N images, as in the authors'
/// code); images.ids [N] int64 patient ids, images.days / images.studies [N] per image when the
/// positive rule needs them. All N*V views are anchors and keys (view v of image i is row
/// v*N + i); positives are the other views of the same image (always, weight 1) and the views of
/// the other images that the rule accepts. Undefined ids give each image its own label: NT-Xent
/// (vanilla SimCLR). Image identities are set internally; images.images [N], when given, only
/// adds that two batch entries with the same identity >= 0 are one image (drawn twice).
at::Tensor supcon_loss(const at::Tensor& features,
                       const PairAttributes& images,
                       const SupConOptions& options = {});

/// supcon_loss with patient ids only (labels [N] or undefined).
at::Tensor supcon_loss(const at::Tensor& features,
                       const at::Tensor& labels,
                       const SupConOptions& options = {});

/// The ContrastiveInputs supcon_loss evaluates (for statistics on the same pairs).
ContrastiveInputs supcon_contrastive_inputs(const at::Tensor& features,
                                            const PairAttributes& images);

/// One rank's share of a batch-wide SupCon problem in a data-parallel run. `all` is
/// supcon_contrastive_inputs of the global batch [W n, V, D] (each rank's n images gathered in
/// rank order, dist/gather.h); the result has rank `rank`'s V n views as anchors and every view
/// as a key. The keys are reordered rank-major (view v of rank s's image i at s V n + v n + i)
/// so that this rank's anchors are one block of them (self_offset = rank V n). Every anchor has
/// a positive (its other views), so the mean over ranks of the ranks' losses is the global
/// batch's loss, and its gradient the ranks' averaged gradient.
ContrastiveInputs rank_anchors(const ContrastiveInputs& all,
                               std::int64_t views,
                               std::int64_t rank,
                               std::int64_t world);

/// Which queue entries are positives in the MoCo loss.
enum class MoCoPositives {
  kOwnKey,   ///< vanilla MoCo: only the query's own key
  kPatient,  ///< CL-TCI-MoCo: the own key plus valid queue entries of the same patient
};

/// MoCo: queries against [own key k+, queue]. With kPatient the queue entries the positive rule
/// accepts (query / queue attributes) are positives too; with kOwnKey only k+ is.
struct MoCoLossInputs {
  at::Tensor queries;      ///< [B, D] with grad
  at::Tensor keys;         ///< [B, D] key encoder outputs (own keys k+), used detached
  PairAttributes query;    ///< [B]
  at::Tensor queue_keys;   ///< [Kq, D]
  PairAttributes queue;    ///< [Kq]
  at::Tensor queue_valid;  ///< [Kq] bool
  MoCoPositives positives = MoCoPositives::kPatient;
};

/// The MoCo loss; keys and the queue get no gradient.
at::Tensor moco_loss(const MoCoLossInputs& inputs, const SupConOptions& options = {});

/// The ContrastiveInputs moco_loss evaluates (for statistics on the same pairs).
ContrastiveInputs moco_contrastive_inputs(const MoCoLossInputs& inputs);

/// moco_loss with patient ids only: queries [B, D] (with grad) against [own key, queue]. keys
/// [B, D] are the key encoder's outputs for the other view (used without gradient); queue_keys
/// [Kq, D], queue_ids [Kq], queue_valid [Kq] bool come from a MoCoQueue. The queue entries are
/// detached.
at::Tensor moco_loss(const at::Tensor& queries,
                     const at::Tensor& keys,
                     const at::Tensor& query_ids,
                     const at::Tensor& queue_keys,
                     const at::Tensor& queue_ids,
                     const at::Tensor& queue_valid,
                     MoCoPositives positives,
                     const SupConOptions& options = {});

/// What the positive rule selected beyond the anchor's own image, for the pre-training log: a
/// window too tight for the data shows as many anchors without a positive from another image.
/// Pairs of one image (SimCLR's other view, MoCo's own key k+, an earlier key of the same image
/// in the queue, an image drawn twice) are positives under every rule and are not counted.
struct PositiveCounts {
  double anchors = 0;               ///< anchors counted
  double positives_per_anchor = 0;  ///< mean number of kept keys of other images with weight > 0
  double weight_per_anchor = 0;     ///< mean sum of their weights
  double share_without = 0;         ///< share of anchors with no such key (own views/key only)
};

/// The counts over the pairs contrastive_loss(inputs, options) uses (invalid keys and the anchor
/// itself left out; own keys are the anchor's image). No autograd; computed in double over row
/// chunks within options.memory_budget_bytes (one [chunk, Nk] weight block at a time), one
/// device sync at the end.
PositiveCounts positive_counts(const ContrastiveInputs& inputs, const SupConOptions& options);

/// The same figures as sums over the anchors, [positives, weight, anchors without] float64 on the
/// features' device, without a host transfer: what a training step accumulates (one transfer per
/// epoch, not per step). positive_counts_of(anchors, summed sums) turns them into means.
at::Tensor positive_count_sums(const ContrastiveInputs& inputs, const SupConOptions& options);
PositiveCounts positive_counts_of(double anchors, const at::Tensor& sums);

/// Anchor rows per chunk that keep one chunk of logits within budget_bytes (at least 1).
std::int64_t chunk_rows_for_budget(std::int64_t num_keys,
                                   std::int64_t budget_bytes,
                                   std::int64_t bytes_per_logit);

}  // namespace cltci::ssl
