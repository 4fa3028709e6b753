// Embeddings of un-augmented data set images by a (pre-trained) encoder: the input of the
// representation probes during pre-training and of `evaluate --embed` (t-SNE, embeddings.csv).
#pragma once

#include "cltci/data/dataset_cache.h"
#include "cltci/models/encoder.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace cltci::run {

struct Embeddings {
  at::Tensor pooled;     ///< [N, C] global-average-pooled deepest encoder features (CPU float)
  at::Tensor projected;  ///< [N, D] the projection head's output, or undefined without a head
  at::Tensor patients;   ///< [N] int64 dense patient numbers (CachedDataset::patient_index)
};

/// Embeds `indices` of `dataset` in batches of `batch_size` on `device`, without gradients.
/// The caller puts the encoder (and head) in eval mode; `project` may be empty.
Embeddings embed_images(models::Encoder& encoder,
                        const std::function<at::Tensor(const at::Tensor&)>& project,
                        const data::CachedDataset& dataset,
                        const std::vector<std::int64_t>& indices,
                        c10::Device device,
                        std::int64_t batch_size = 32);

/// A fixed probe set of at most `max_images` images: whole patients in a seeded random order,
/// each taken when all its images still fit, so that every patient in the set keeps its
/// same-patient pairs. Sorted data set indices; every image when the data set is small enough.
std::vector<std::int64_t> probe_set(const data::CachedDataset& dataset,
                                    std::int64_t max_images,
                                    std::uint64_t seed);

}  // namespace cltci::run
