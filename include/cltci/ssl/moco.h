// MoCo's pieces that do not depend on the encoder: the key queue, the momentum update of the key
// encoder and split-batch ("shuffled sub-batch") BatchNorm for the key encoder.
#pragma once

#include "cltci/dist/group.h"
#include "cltci/ssl/positives.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>

namespace cltci::ssl {

/// Everything a checkpoint needs to restore a MoCoQueue exactly.
struct MoCoQueueState {
  at::Tensor keys;     ///< [size, dim] float, unit rows where valid
  at::Tensor ids;      ///< [size] int64 patient ids (-1 where invalid)
  at::Tensor valid;    ///< [size] bool
  at::Tensor pointer;  ///< [] int64: the slot the next key goes to
  at::Tensor days;     ///< [size] float64 acquisition times (NaN: undated or invalid)
  at::Tensor studies;  ///< [size] int64 study numbers (-1: unknown or invalid)
  at::Tensor images;   ///< [size] int64 data set indices (-1: unknown or invalid)
};

/// FIFO of L2-normalised keys with their patient ids, acquisition times, studies and image
/// indices (what the positive rules of CL-TCI read, ssl/positives.h). Slots start invalid
/// (neither positive nor negative in the loss), unlike the authors' queue of random keys all
/// labelled patient 0. The size need not be a multiple of the batch size: an enqueue wraps
/// around the end.
class MoCoQueue {
 public:
  /// size > 0 and dim > 0, else InputError.
  MoCoQueue(std::int64_t size, std::int64_t dim, c10::Device device = c10::Device(c10::kCPU));

  /// Appends keys [B, D] (normalised here, stored without gradient) with ids [B] and, when
  /// defined, days [B] (float64, NaN undated), studies [B] and images [B] (int64, -1 unknown);
  /// undefined ones store "unknown". B may exceed the size: then only the newest `size` keys
  /// survive, as with B single-key enqueues.
  void enqueue(const at::Tensor& keys,
               const at::Tensor& ids,
               const at::Tensor& days = {},
               const at::Tensor& studies = {},
               const at::Tensor& images = {});

  const at::Tensor& keys() const { return keys_; }
  const at::Tensor& ids() const { return ids_; }
  const at::Tensor& valid() const { return valid_; }
  const at::Tensor& days() const { return days_; }
  const at::Tensor& studies() const { return studies_; }
  const at::Tensor& images() const { return images_; }
  /// ids, days, studies and images of every slot, as the loss reads them.
  PairAttributes attributes() const { return {ids_, days_, studies_, images_}; }
  std::int64_t pointer() const { return pointer_; }
  std::int64_t size() const { return keys_.size(0); }
  std::int64_t dim() const { return keys_.size(1); }
  std::int64_t num_valid() const;

  MoCoQueueState state() const;
  /// Restores a state of the same size and dim (c10::Error on a mismatch). A state without
  /// days, studies or images (a checkpoint written before they were stored) restores them as
  /// unknown.
  void load_state(const MoCoQueueState& state);
  void to(c10::Device device);

 private:
  at::Tensor keys_;
  at::Tensor ids_;
  at::Tensor valid_;
  at::Tensor days_;
  at::Tensor studies_;
  at::Tensor images_;
  std::int64_t pointer_ = 0;
};

/// key <- m * key + (1 - m) * query for every parameter, and key buffers (BatchNorm statistics,
/// counters) copied from the query encoder. Both modules must have the same parameter and buffer
/// names and shapes. momentum in [0, 1], else InputError.
void momentum_update(torch::nn::Module& key_encoder,
                     const torch::nn::Module& query_encoder,
                     double momentum);

/// Makes the key encoder an exact copy of the query encoder with requires_grad off (MoCo's
/// initialisation; the key encoder is only ever changed by momentum_update).
void init_key_encoder(torch::nn::Module& key_encoder, const torch::nn::Module& query_encoder);

/// Split-batch BatchNorm for a single-process key encoder: the batch is permuted (seeded), cut
/// into `splits` sub-batches that each go through `encoder` separately (so each BatchNorm sees
/// statistics of a random subset, which is what MoCo's cross-GPU shuffle prevents: the query and
/// key of a sample sharing batch statistics), and the outputs are put back in input order.
/// splits must be in [1, batch]; sub-batches differ in size by at most one.
at::Tensor shuffled_split_forward(const std::function<at::Tensor(const at::Tensor&)>& encoder,
                                  const at::Tensor& batch,
                                  std::int64_t splits,
                                  std::uint64_t seed);

/// MoCo's shuffle-BN across the ranks of `group` (He et al. 2020, sec. 3.3): the ranks' local
/// batches [n, ...] are gathered into the global batch [W n, ...], permuted with `seed` (the
/// same permutation on every rank, with no broadcast: the seed is shared), cut into `splits`
/// sub-batches of which rank r encodes the r-th W-th (so every rank's BatchNorm sees a random
/// subset of the global batch), and the encoded outputs are gathered, put back in order and
/// this rank's rows returned. Equal to the single-process shuffled_split_forward of the global
/// batch with the same splits and seed. splits must be a multiple of the world size, in
/// [W, W n]; every rank's batch has the same size. Runs without gradient.
at::Tensor shuffled_split_forward(const std::function<at::Tensor(const at::Tensor&)>& encoder,
                                  const at::Tensor& local_batch,
                                  std::int64_t splits,
                                  std::uint64_t seed,
                                  dist::Group& group);

}  // namespace cltci::ssl
