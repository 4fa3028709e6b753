#include "cltci/run/embedding.h"

#include "cltci/common/seeding.h"
#include "cltci/data/image_batch.h"
#include "cltci/data/samplers.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

namespace cltci::run {

Embeddings embed_images(models::Encoder& encoder,
                        const std::function<at::Tensor(const at::Tensor&)>& project,
                        const data::CachedDataset& dataset,
                        const std::vector<std::int64_t>& indices,
                        c10::Device device,
                        std::int64_t batch_size) {
  TORCH_CHECK(batch_size > 0, "embed_images: batch_size must be > 0");
  const torch::NoGradGuard no_grad;
  std::vector<at::Tensor> pooled, projected;
  std::vector<std::int64_t> patients;
  patients.reserve(indices.size());
  for (std::size_t start = 0; start < indices.size();
       start += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(indices.size(), start + static_cast<std::size_t>(batch_size));
    std::vector<cv::Mat> images;
    for (std::size_t i = start; i < end; ++i) {
      images.push_back(dataset.image(indices[i]));
      patients.push_back(dataset.patient_index(indices[i]));
    }
    const at::Tensor features = encoder.forward(data::images_to_batch(images).to(device));
    const at::Tensor vectors = features.to(torch::kFloat32).mean({2, 3});
    pooled.push_back(vectors.to(torch::kCPU));
    if (project) {
      // A method without a projection head answers with an undefined tensor.
      const at::Tensor head = project(vectors);
      if (head.defined()) projected.push_back(head.to(torch::kFloat32).to(torch::kCPU));
    }
  }
  Embeddings out;
  out.patients = torch::tensor(patients, torch::kInt64);
  if (pooled.empty()) return out;
  out.pooled = torch::cat(pooled, 0);
  if (projected.size() == pooled.size()) out.projected = torch::cat(projected, 0);
  return out;
}

std::vector<std::int64_t> probe_set(const data::CachedDataset& dataset,
                                    std::int64_t max_images,
                                    std::uint64_t seed) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(dataset.size()));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  if (dataset.size() <= max_images) return all;
  std::vector<std::vector<std::int64_t>> by_patient(static_cast<std::size_t>(dataset.patients()));
  for (const std::int64_t i : all) {
    by_patient[static_cast<std::size_t>(dataset.patient_index(i))].push_back(i);
  }
  std::vector<std::int64_t> patients(by_patient.size());
  std::iota(patients.begin(), patients.end(), std::int64_t{0});
  const std::vector<std::int64_t> order =
      data::shuffled_epoch(patients, common::derive_seed(seed, {0x70726f6265ULL}), 0);
  std::vector<std::int64_t> chosen;
  for (const std::int64_t p : order) {
    const auto& images = by_patient[static_cast<std::size_t>(p)];
    if (static_cast<std::int64_t>(chosen.size() + images.size()) > max_images) continue;
    chosen.insert(chosen.end(), images.begin(), images.end());
    if (static_cast<std::int64_t>(chosen.size()) == max_images) break;
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace cltci::run
