#include "cltci/data/loader.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/data/dataset_cache.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

namespace cltci::data {

std::int64_t CachedSource::size() const { return dataset_.size(); }
cv::Mat CachedSource::image(std::int64_t index) const { return dataset_.image(index); }
cv::Mat CachedSource::labels(std::int64_t index) const { return dataset_.labels(index); }
std::int64_t CachedSource::patient_index(std::int64_t index) const {
  return dataset_.patient_index(index);
}
std::string CachedSource::name(std::int64_t index) const { return dataset_.name(index); }

Loader::Loader(const SampleSource& source, LoaderOptions options)
    : source_(source), options_(options) {
  std::vector<std::string> problems;
  if (options_.workers < 1) problems.push_back("loader.workers must be >= 1");
  if (options_.prefetch < 1) problems.push_back("loader.prefetch must be >= 1");
  if (!problems.empty()) throw common::InputError(problems);
  options_.augment.validate();
  if (options_.pin_memory && !torch::cuda::is_available()) {
    throw common::InputError("loader: pinned batches need CUDA, and none is available");
  }
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

namespace {

torch::ScalarType tensor_type(int depth) {
  switch (depth) {
    case CV_8U:
      return torch::kUInt8;
    case CV_16U:
      return torch::kUInt16;
    case CV_32F:
      return torch::kFloat32;
    default:
      throw common::Error("cached image of OpenCV depth " + std::to_string(depth));
  }
}

void copy_plane(const cv::Mat& plane, void* target) {
  const std::size_t row = plane.elemSize() * static_cast<std::size_t>(plane.cols);
  auto* out = static_cast<unsigned char*>(target);
  for (int y = 0; y < plane.rows; ++y) std::memcpy(out + y * row, plane.ptr(y), row);
}

}  // namespace

LoaderBatch Loader::produce(std::int64_t epoch,
                            std::int64_t number,
                            const Batch& batch,
                            std::int64_t first_position) const {
  const auto count = static_cast<std::int64_t>(batch.size());
  const int s = output_size_;
  const std::int64_t plane = static_cast<std::int64_t>(s) * s;
  const bool contrastive = options_.mode == LoaderMode::kContrastive;
  const bool deferred = options_.defer_augmentation;
  LoaderBatch out;
  out.number = number;
  const auto host = torch::TensorOptions().pinned_memory(options_.pin_memory);
  out.patient = torch::empty({count}, host.dtype(torch::kInt64));
  out.index = torch::empty({count}, host.dtype(torch::kInt64));
  if (!deferred && contrastive) {
    out.view1 = torch::empty({count, 1, s, s}, host.dtype(torch::kFloat32));
    out.view2 = torch::empty({count, 1, s, s}, host.dtype(torch::kFloat32));
  } else if (!deferred) {
    out.image = torch::empty({count, 1, s, s}, host.dtype(torch::kFloat32));
    out.mask = torch::empty({count, s, s}, host.dtype(torch::kInt64));
  }
  auto* patients = out.patient.data_ptr<std::int64_t>();
  auto* indices = out.index.data_ptr<std::int64_t>();
  std::array<std::vector<AugmentDraw>, 2> draws;
  const int views = contrastive ? 2 : 1;
  const auto seed_of = [&](std::uint64_t position, int view) {
    return common::derive_seed(options_.seed, {static_cast<std::uint64_t>(epoch), position,
                                               static_cast<std::uint64_t>(view)});
  };
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
      cv::Mat source_labels;
      if (!contrastive) {
        source_labels = source_.labels(index);
        if (source_labels.empty())
          throw common::InputError("has no label map (segmentation needs one)");
      }
      if (deferred) {
        // One tensor for the batch: every image must share the first one's side and depth (a
        // cache holds one size; a mixed source needs the loader's own augmentation).
        if (j == 0) {
          out.source = torch::empty({count, 1, image.rows, image.cols},
                                    host.dtype(tensor_type(image.depth())));
          if (!contrastive) {
            out.source_labels =
                torch::empty({count, image.rows, image.cols}, host.dtype(torch::kUInt8));
          }
        }
        if (image.rows != out.source.size(2) || image.cols != out.source.size(3) ||
            tensor_type(image.depth()) != out.source.scalar_type()) {
          throw common::InputError(
              "deferred augmentation (augment.placement: device) needs images of one size and "
              "depth in a "
              "batch; this one differs from the batch's first");
        }
        copy_plane(image, static_cast<char*>(out.source.data_ptr()) +
                              j * out.source.stride(0) * out.source.element_size());
        if (!contrastive) {
          copy_plane(source_labels,
                     out.source_labels.data_ptr<std::uint8_t>() + j * out.source_labels.stride(0));
        }
        for (int v = 0; v < views; ++v) {
          draws[static_cast<std::size_t>(v)].push_back(
              draw_augment(options_.augment, image.rows, seed_of(position, v)));
        }
        continue;
      }
      if (contrastive) {
        for (int v = 0; v < 2; ++v) {
          at::Tensor& view = v == 0 ? out.view1 : out.view2;
          cv::Mat target(s, s, CV_32FC1, view.data_ptr<float>() + j * plane);
          augment(image, cv::Mat(), options_.augment, seed_of(position, v), target, nullptr);
        }
      } else {
        cv::Mat target(s, s, CV_32FC1, out.image.data_ptr<float>() + j * plane);
        augment(image, source_labels, options_.augment, seed_of(position, 0), target, &labels);
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
  if (deferred && count > 0) {
    const auto side = static_cast<int>(out.source.size(2));
    for (int v = 0; v < views; ++v) {
      AugmentPlan plan = plan_augment(draws[static_cast<std::size_t>(v)], side, s);
      if (options_.pin_memory) {
        plan = {plan.theta.pin_memory(), plan.tone.pin_memory(), plan.flip.pin_memory()};
      }
      (v == 0 ? out.plan1 : out.plan2) = std::move(plan);
    }
  }
  return out;
}

LoaderBatch Loader::to_device(const LoaderBatch& batch, c10::Device device) const {
  // Pinned host memory makes these copies asynchronous; from pageable memory they wait.
  const bool async = options_.pin_memory && device.is_cuda();
  LoaderBatch out;
  out.number = batch.number;
  out.patient = batch.patient.to(device, async);
  out.index = batch.index;  // host-side bookkeeping (PIRL's bank is gathered on the CPU)
  if (!batch.source.defined()) {
    const auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, async) : t; };
    out.view1 = move(batch.view1);
    out.view2 = move(batch.view2);
    out.image = move(batch.image);
    out.mask = move(batch.mask);
    return out;
  }
  const at::Tensor source = batch.source.to(device, async);
  const bool reflect = options_.augment.reflect_border;
  if (options_.mode == LoaderMode::kContrastive) {
    std::vector<at::Tensor> views =
        augment_views(source, {batch.plan1.to(device, async), batch.plan2.to(device, async)},
                      output_size_, reflect);
    out.view1 = std::move(views[0]);
    out.view2 = std::move(views[1]);
  } else {
    const AugmentPlan plan = batch.plan1.to(device, async);
    out.image = augment_images(source, plan, output_size_, reflect);
    out.mask = augment_labels(batch.source_labels.to(device, async), plan, output_size_,
                              options_.augment.label_fill);
  }
  return out;
}

}  // namespace cltci::data
