#include "cltci/data/loader.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/data/dataset_cache.h"

#include <torch/torch.h>

#include <cstring>
#include <utility>

namespace cltci::data {

std::int64_t CachedSource::size() const { return dataset_.size(); }
cv::Mat CachedSource::image(std::int64_t index) const { return dataset_.image(index); }
cv::Mat CachedSource::labels(std::int64_t index) const { return dataset_.labels(index); }
std::int64_t CachedSource::patient_index(std::int64_t index) const {
  return dataset_.patient_index(index);
}
std::string CachedSource::name(std::int64_t index) const { return dataset_.name(index); }

Loader::Loader(const SampleSource& source, LoaderOptions options)
    : source_(source), options_(std::move(options)) {
  std::vector<std::string> problems;
  if (options_.workers < 1) problems.push_back("loader.workers must be >= 1");
  if (options_.prefetch < 1) problems.push_back("loader.prefetch must be >= 1");
  if (!problems.empty()) throw common::InputError(problems);
  options_.augment.validate();
  if (source_.size() > 0) {
    output_size_ =
        options_.augment.output_size > 0 ? options_.augment.output_size : source_.image(0).rows;
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void Loader::start_epoch(std::int64_t epoch,
                         std::vector<Batch> batches,
                         std::vector<std::int64_t> first_positions) {
  TORCH_CHECK(first_positions.empty() || first_positions.size() == batches.size(),
              "loader: ", first_positions.size(), " first positions for ", batches.size(),
              " batches");
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    epoch_ = epoch;
    batches_ = std::move(batches);
    if (first_positions.empty()) {
      first_position_.assign(batches_.size(), 0);
      std::int64_t position = 0;
      for (std::size_t b = 0; b < batches_.size(); ++b) {
        first_position_[b] = position;
        position += static_cast<std::int64_t>(batches_[b].size());
      }
    } else {
      first_position_ = std::move(first_positions);
    }
    next_to_produce_ = 0;
    next_to_consume_ = 0;
    ready_.clear();
  }
  work_ready_.notify_all();
}

std::optional<LoaderBatch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_consume_ >= batches_.size()) return std::nullopt;
  result_ready_.wait(lock, [&] { return ready_.count(next_to_consume_) > 0; });
  Result result = std::move(ready_.at(next_to_consume_));
  ready_.erase(next_to_consume_);
  ++next_to_consume_;
  lock.unlock();
  work_ready_.notify_all();
  if (result.error) std::rethrow_exception(result.error);
  return std::move(result.batch);
}

void Loader::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] {
      return stop_ ||
             (next_to_produce_ < batches_.size() &&
              next_to_produce_ < next_to_consume_ + static_cast<std::size_t>(options_.prefetch));
    });
    if (stop_) return;
    const std::size_t number = next_to_produce_++;
    const std::uint64_t generation = generation_;
    const std::int64_t epoch = epoch_;
    const Batch batch = batches_[number];
    const std::int64_t first = first_position_[number];
    lock.unlock();
    Result result;
    try {
      result.batch = produce(epoch, static_cast<std::int64_t>(number), batch, first);
    } catch (...) {
      result.error = std::current_exception();
    }
    lock.lock();
    if (generation == generation_) {
      ready_.emplace(number, std::move(result));
      result_ready_.notify_all();
    }
  }
}

LoaderBatch Loader::produce(std::int64_t epoch,
                            std::int64_t number,
                            const Batch& batch,
                            std::int64_t first_position) const {
  const auto count = static_cast<std::int64_t>(batch.size());
  const int s = output_size_;
  const std::int64_t plane = static_cast<std::int64_t>(s) * s;
  LoaderBatch out;
  out.number = number;
  out.patient = torch::empty({count}, torch::kInt64);
  out.index = torch::empty({count}, torch::kInt64);
  const bool contrastive = options_.mode == LoaderMode::kContrastive;
  if (contrastive) {
    out.view1 = torch::empty({count, 1, s, s}, torch::kFloat32);
    out.view2 = torch::empty({count, 1, s, s}, torch::kFloat32);
  } else {
    out.image = torch::empty({count, 1, s, s}, torch::kFloat32);
    out.mask = torch::empty({count, s, s}, torch::kInt64);
  }
  auto* patients = out.patient.data_ptr<std::int64_t>();
  auto* indices = out.index.data_ptr<std::int64_t>();
  cv::Mat labels;
  for (std::int64_t j = 0; j < count; ++j) {
    const std::int64_t index = batch[static_cast<std::size_t>(j)];
    const auto position = static_cast<std::uint64_t>(first_position + j);
    try {
      if (index < 0 || index >= source_.size()) {
        throw common::Error("index out of range [0, " + std::to_string(source_.size()) + ")");
      }
      const cv::Mat image = source_.image(index);
      patients[j] = source_.patient_index(index);
      indices[j] = index;
      if (contrastive) {
        for (int v = 0; v < 2; ++v) {
          at::Tensor& view = v == 0 ? out.view1 : out.view2;
          cv::Mat target(s, s, CV_32FC1, view.data_ptr<float>() + j * plane);
          augment(image, cv::Mat(), options_.augment,
                  common::derive_seed(options_.seed, {static_cast<std::uint64_t>(epoch), position,
                                                      static_cast<std::uint64_t>(v)}),
                  target, nullptr);
        }
      } else {
        const cv::Mat source_labels = source_.labels(index);
        if (source_labels.empty())
          throw common::InputError("has no label map (segmentation needs one)");
        cv::Mat target(s, s, CV_32FC1, out.image.data_ptr<float>() + j * plane);
        augment(
            image, source_labels, options_.augment,
            common::derive_seed(options_.seed, {static_cast<std::uint64_t>(epoch), position, 0}),
            target, &labels);
        auto* mask = out.mask.data_ptr<std::int64_t>() + j * plane;
        for (int y = 0; y < s; ++y) {
          const auto* row = labels.ptr<std::uint8_t>(y);
          for (int x = 0; x < s; ++x) mask[static_cast<std::int64_t>(y) * s + x] = row[x];
        }
      }
    } catch (const std::exception& e) {
      std::string name;
      try {
        if (index >= 0 && index < source_.size()) name = " ('" + source_.name(index) + "')";
      } catch (const std::exception&) {
        // The name is only decoration for the real error below.
      }
      const std::string message = "loader: epoch " + std::to_string(epoch) + ", batch " +
                                  std::to_string(number) + ", sample " + std::to_string(index) +
                                  name + ": " + e.what();
      if (dynamic_cast<const common::InputError*>(&e) != nullptr) throw common::InputError(message);
      throw common::Error(message);
    }
  }
  return out;
}

}  // namespace cltci::data
