#include "cltci/run/finetune_validation.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/data/image_batch.h"
#include "cltci/data/samplers.h"
#include "cltci/engine/dice.h"

#include <opencv2/core/mat.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <utility>

namespace cltci::run {
namespace {

// Keeps the validation draw apart from the M-subset draw, which uses the same folds.seed.
constexpr std::uint64_t kValidationTag = 0x76616c69ULL;

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

ValidationSplit split_validation(const std::vector<std::int64_t>& budget_images,
                                 const std::vector<std::int64_t>& fold_train_images,
                                 const std::vector<std::string>& patient_ids,
                                 const config::ValidationConfig& config,
                                 std::uint64_t seed,
                                 std::int64_t fold,
                                 std::int64_t budget) {
  ValidationSplit split;
  const std::vector<std::int64_t> m_images = sorted(budget_images);
  if (config.source == config::ValidationSource::kNone) {
    split.train = m_images;
    return split;
  }
  const std::string cell = "fold " + std::to_string(fold) + ", M=" + std::to_string(budget);
  std::vector<std::int64_t> pool;
  std::string pool_name;
  if (config.source == config::ValidationSource::kBudget) {
    pool = m_images;
    pool_name = "of the M images";
  } else {
    // Only patients with no image among the M: a patient on both sides would let the epoch be
    // chosen on images the model has nearly seen.
    std::set<std::string> m_patients;
    for (const auto index : m_images) m_patients.insert(patient_ids.at(index));
    for (const auto index : sorted(fold_train_images)) {
      if (m_patients.count(patient_ids.at(index)) == 0) pool.push_back(index);
    }
    pool_name = "of the training folds outside the M images' patients";
    if (pool.empty()) {
      throw common::InputError("validation.fraction: " + cell +
                               ": no training image is left outside the M images' patients; "
                               "use validation.source budget or a smaller budget");
    }
  }
  const double share = config.fraction * static_cast<double>(pool.size());
  const auto wanted = static_cast<std::size_t>(std::max<long long>(0, std::llround(share)));
  if (wanted < 1) {
    throw common::InputError("validation.fraction: " + cell + ": " + number(config.fraction) +
                             " x " + std::to_string(pool.size()) + " images " + pool_name + " = " +
                             number(share) +
                             " rounds to no validation image; raise validation.fraction");
  }
  // Patients ordered by id before shuffling, so the draw does not depend on data set order.
  std::map<std::string, std::vector<std::int64_t>> by_patient;
  for (const auto index : pool) by_patient[patient_ids.at(index)].push_back(index);
  std::vector<const std::vector<std::int64_t>*> groups;
  for (const auto& entry : by_patient) groups.push_back(&entry.second);
  std::vector<std::int64_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  order = data::shuffled_epoch(
      std::move(order),
      common::derive_seed(seed, {kValidationTag, static_cast<std::uint64_t>(fold),
                                 static_cast<std::uint64_t>(budget)}),
      0);
  for (const auto group : order) {
    if (split.validation.size() >= wanted) break;
    const auto& images = *groups[static_cast<std::size_t>(group)];
    split.validation.insert(split.validation.end(), images.begin(), images.end());
    ++split.patients;
  }
  std::sort(split.validation.begin(), split.validation.end());
  if (config.source == config::ValidationSource::kBudget) {
    std::set_difference(m_images.begin(), m_images.end(), split.validation.begin(),
                        split.validation.end(), std::back_inserter(split.train));
    if (split.train.empty()) {
      throw common::InputError("validation.fraction: " + cell + ": " + number(config.fraction) +
                               " x " + std::to_string(pool.size()) + " images = " + number(share) +
                               " asks for " + std::to_string(wanted) +
                               " validation image(s), and the " + std::to_string(split.patients) +
                               " whole patient(s) that hold them hold all " +
                               std::to_string(pool.size()) +
                               "; none is left to train on: lower validation.fraction "
                               "or raise the budget");
    }
  } else {
    split.train = m_images;
  }
  return split;
}

double validation_dice(models::SegmentationNet& net,
                       const data::CachedDataset& dataset,
                       const std::vector<std::int64_t>& images,
                       std::int64_t classes,
                       c10::Device device,
                       std::int64_t batch_size) {
  TORCH_CHECK(!images.empty(), "validation_dice: no validation image");
  torch::NoGradGuard no_grad;
  net.eval();
  std::vector<engine::ClassCounts> pooled(static_cast<std::size_t>(classes - 1));
  const auto step = static_cast<std::size_t>(std::max<std::int64_t>(1, batch_size));
  for (std::size_t start = 0; start < images.size(); start += step) {
    const std::size_t end = std::min(images.size(), start + step);
    std::vector<cv::Mat> pictures;
    for (std::size_t i = start; i < end; ++i) pictures.push_back(dataset.image(images[i]));
    const auto predictions = net.forward(data::images_to_batch(pictures).to(device))
                                 .argmax(1)
                                 .to(torch::kCPU, torch::kUInt8);
    for (std::size_t i = start; i < end; ++i) {
      const cv::Mat truth = dataset.labels(images[i]).clone();
      const auto target =
          torch::from_blob(truth.data, {truth.rows, truth.cols}, torch::kUInt8).clone();
      const auto counts =
          engine::count_classes(predictions[static_cast<std::int64_t>(i - start)], target, classes);
      for (std::size_t c = 0; c < counts.size(); ++c) pooled[c] += counts[c];
    }
  }
  double sum = 0.0;
  for (const auto& counts : pooled) sum += engine::dice(counts);
  return sum / static_cast<double>(pooled.size());
}

EpochSelector::EpochSelector(models::SegmentationNet& net) {
  for (const auto& parameter : net.parameters()) live_.push_back(parameter);
  for (const auto& buffer : net.buffers()) live_.push_back(buffer);
  torch::NoGradGuard no_grad;
  for (const auto& tensor : live_) best_.push_back(tensor.detach().clone());
}

bool EpochSelector::record(std::int64_t epoch, double dice) {
  last_epoch_ = epoch;
  last_dice_ = dice;
  if (best_epoch_ != 0 && !(dice > best_dice_)) return false;
  best_epoch_ = epoch;
  best_dice_ = dice;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < live_.size(); ++i) best_[i].copy_(live_[i]);
  return true;
}

void EpochSelector::restore_best() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < live_.size(); ++i) live_[i].copy_(best_[i]);
}

void EpochSelector::save(torch::serialize::OutputArchive& archive) const {
  archive.write("epochs", torch::tensor({best_epoch_, last_epoch_}, torch::kInt64), true);
  archive.write("dice", torch::tensor({best_dice_, last_dice_}, torch::kFloat64), true);
  for (std::size_t i = 0; i < best_.size(); ++i) {
    archive.write("w" + std::to_string(i), best_[i], true);
  }
}

void EpochSelector::load(torch::serialize::InputArchive& archive) {
  torch::Tensor epochs, dice;
  archive.read("epochs", epochs, true);
  archive.read("dice", dice, true);
  best_epoch_ = epochs[0].item<std::int64_t>();
  last_epoch_ = epochs[1].item<std::int64_t>();
  best_dice_ = dice[0].item<double>();
  last_dice_ = dice[1].item<double>();
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < best_.size(); ++i) {
    torch::Tensor weights;
    archive.read("w" + std::to_string(i), weights, true);
    best_[i].copy_(weights);
  }
}

}  // namespace cltci::run
