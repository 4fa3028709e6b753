#include "cltci/data/samplers.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "data/random.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

namespace cltci::data {
namespace {
// Stream tags keep the sampler's streams apart from the augmentations' (same seed).
constexpr std::uint64_t kShuffleTag = 0x73687566ULL;
constexpr std::uint64_t kPatientTag = 0x70617469ULL;
constexpr std::uint64_t kSubsetTag = 0x73756273ULL;
}  // namespace

std::vector<std::int64_t> shuffled_epoch(std::vector<std::int64_t> indices,
                                         std::uint64_t seed,
                                         std::int64_t epoch) {
  detail::Rng rng(common::derive_seed(seed, {kShuffleTag, static_cast<std::uint64_t>(epoch)}));
  rng.shuffle(indices);
  return indices;
}

std::vector<Batch> make_batches(const std::vector<std::int64_t>& order,
                                std::int64_t batch_size,
                                bool drop_last) {
  if (batch_size < 1)
    throw common::InputError("batch size must be >= 1, got " + std::to_string(batch_size));
  std::vector<Batch> batches;
  for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(order.size(), start + static_cast<std::size_t>(batch_size));
    if (drop_last && end - start < static_cast<std::size_t>(batch_size)) break;
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return batches;
}

PatientBatchSampler::PatientBatchSampler(std::vector<std::int64_t> patient_of_image,
                                         PatientBatchOptions options,
                                         std::uint64_t seed,
                                         const std::vector<std::int64_t>& images,
                                         ImageTimes times)
    : options_(options), seed_(seed), times_(std::move(times)) {
  if (options.patients_per_batch < 1 || options.images_per_patient < 1) {
    throw common::InputError("patient batches need P >= 1 and K >= 1, got P=" +
                             std::to_string(options.patients_per_batch) +
                             " K=" + std::to_string(options.images_per_patient));
  }
  if (!std::isfinite(options.window_days) || options.window_days < 0) {
    throw common::InputError("patient batches need a finite window_days >= 0, got " +
                             std::to_string(options.window_days));
  }
  if (options.window_days > 0 && times_.days.empty()) {
    throw common::InputError(
        "patient batches within a time window need acquisition times, and none were given");
  }
  if (options.same_study && times_.study.empty()) {
    throw common::InputError("patient batches from one study need studies, and none were given");
  }
  for (const std::size_t given : {times_.days.size(), times_.study.size()}) {
    if (given != 0 && given != patient_of_image.size()) {
      throw common::Error("patient sampler: " + std::to_string(given) + " times or studies for " +
                          std::to_string(patient_of_image.size()) + " images");
    }
  }
  std::map<std::int64_t, std::vector<std::int64_t>> by_patient;
  auto add = [&](std::int64_t image) {
    if (image < 0 || image >= static_cast<std::int64_t>(patient_of_image.size())) {
      throw common::Error("patient sampler: image index " + std::to_string(image) +
                          " out of range");
    }
    by_patient[patient_of_image[static_cast<std::size_t>(image)]].push_back(image);
  };
  if (images.empty()) {
    for (std::size_t i = 0; i < patient_of_image.size(); ++i) add(static_cast<std::int64_t>(i));
  } else {
    for (const std::int64_t i : images) add(i);
  }
  for (auto& [patient, list] : by_patient) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    patient_numbers_.push_back(patient);
    groups_.push_back(std::move(list));
  }
}

bool PatientBatchSampler::compatible(std::int64_t first, std::int64_t other) const {
  if (options_.window_days > 0) {
    const double a = times_.days[static_cast<std::size_t>(first)];
    const double b = times_.days[static_cast<std::size_t>(other)];
    // NaN compares false, so an undated image is compatible with none.
    if (!(std::abs(a - b) <= options_.window_days)) return false;
  }
  if (options_.same_study) {
    const std::int64_t study = times_.study[static_cast<std::size_t>(first)];
    if (study < 0 || study != times_.study[static_cast<std::size_t>(other)]) return false;
  }
  return true;
}

std::int64_t PatientBatchSampler::batches_per_epoch() const {
  const std::int64_t p = options_.patients_per_batch;
  return options_.drop_last ? patients() / p : (patients() + p - 1) / p;
}

std::vector<Batch> PatientBatchSampler::epoch(std::int64_t epoch) const {
  std::vector<std::int64_t> order(groups_.size());
  for (std::size_t g = 0; g < order.size(); ++g) order[g] = static_cast<std::int64_t>(g);
  order = shuffled_epoch(std::move(order), seed_, epoch);

  const auto k = static_cast<std::size_t>(options_.images_per_patient);
  std::vector<Batch> batches;
  Batch current;
  std::int64_t in_batch = 0;
  for (const std::int64_t g : order) {
    const std::vector<std::int64_t>& images = groups_[static_cast<std::size_t>(g)];
    detail::Rng rng(common::derive_seed(
        seed_, {kPatientTag, static_cast<std::uint64_t>(epoch),
                static_cast<std::uint64_t>(patient_numbers_[static_cast<std::size_t>(g)])}));
    std::vector<std::int64_t> chosen;
    if (coherent()) {
      const std::int64_t first = images[rng.below(images.size())];
      std::vector<std::int64_t> pool{first};  // the first, then its compatible images
      for (const std::int64_t other : images) {
        if (other != first && compatible(first, other)) pool.push_back(other);
      }
      std::vector<std::int64_t> others(pool.begin() + 1, pool.end());
      rng.shuffle(others);
      if (others.size() > k - 1) others.resize(k - 1);
      chosen.push_back(first);
      chosen.insert(chosen.end(), others.begin(), others.end());
      while (chosen.size() < k) chosen.push_back(pool[rng.below(pool.size())]);
    } else {
      chosen = images;
      rng.shuffle(chosen);
      if (chosen.size() >= k) {
        chosen.resize(k);
      } else {
        while (chosen.size() < k) chosen.push_back(images[rng.below(images.size())]);
      }
    }
    current.insert(current.end(), chosen.begin(), chosen.end());
    if (++in_batch == options_.patients_per_batch) {
      batches.push_back(std::move(current));
      current.clear();
      in_batch = 0;
    }
  }
  if (!current.empty() && !options_.drop_last) batches.push_back(std::move(current));
  return batches;
}

namespace {
void check_rank(int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw common::InputError("sharding needs 0 <= rank < world_size, got rank " +
                             std::to_string(rank) + " of " + std::to_string(world_size));
  }
}
}  // namespace

EpochShard shard_epoch(
    const std::vector<Batch>& batches, int rank, int world_size, std::int64_t unit, bool equal) {
  check_rank(rank, world_size);
  if (unit < 1) throw common::InputError("sharding needs a unit >= 1, got " + std::to_string(unit));
  EpochShard shard;
  std::int64_t position = 0;
  const auto w = static_cast<std::int64_t>(world_size);
  for (const Batch& batch : batches) {
    const auto size = static_cast<std::int64_t>(batch.size());
    const std::int64_t units = size / unit;
    const bool splittable = size % unit == 0 && (equal ? units % w == 0 : units >= w);
    if (splittable && units > 0) {
      const std::int64_t begin = units * rank / w * unit;
      const std::int64_t end = units * (rank + 1) / w * unit;
      shard.batches.emplace_back(batch.begin() + begin, batch.begin() + end);
      shard.first_positions.push_back(position + begin);
      shard.global_sizes.push_back(size);
    } else {
      ++shard.dropped;
    }
    position += size;
  }
  return shard;
}

std::vector<std::int64_t> shard_indices(const std::vector<std::int64_t>& indices,
                                        int rank,
                                        int world_size) {
  check_rank(rank, world_size);
  std::vector<std::int64_t> mine;
  if (indices.empty()) return mine;
  const std::size_t w = static_cast<std::size_t>(world_size);
  const std::size_t padded = (indices.size() + w - 1) / w * w;
  for (std::size_t i = static_cast<std::size_t>(rank); i < padded; i += w)
    mine.push_back(indices[i % indices.size()]);
  return mine;
}

std::vector<std::int64_t> labelled_subset(std::vector<std::int64_t> train_indices,
                                          std::int64_t m,
                                          std::uint64_t seed,
                                          int fold) {
  if (m < 1) throw common::InputError("labelled images M must be >= 1, got " + std::to_string(m));
  if (m > static_cast<std::int64_t>(train_indices.size())) {
    throw common::InputError("labelled images M=" + std::to_string(m) + " exceeds the " +
                             std::to_string(train_indices.size()) + " training images of fold " +
                             std::to_string(fold));
  }
  // Sorting first makes the subset independent of the order the caller listed the fold in.
  std::sort(train_indices.begin(), train_indices.end());
  detail::Rng rng(common::derive_seed(seed, {kSubsetTag, static_cast<std::uint64_t>(fold)}));
  rng.shuffle(train_indices);
  train_indices.resize(static_cast<std::size_t>(m));
  std::sort(train_indices.begin(), train_indices.end());
  return train_indices;
}

}  // namespace cltci::data
