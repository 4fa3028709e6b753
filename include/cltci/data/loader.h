// Batches of tensors from a cached data set: worker threads augment samples into batch tensors
// and a bounded queue hands them out in order. A batch depends only on (seed, epoch, its
// samples' positions in the epoch), never on the number of workers or their timing.
#pragma once

#include "cltci/data/augment.h"
#include "cltci/data/batch_augment.h"
#include "cltci/data/samplers.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <opencv2/core/mat.hpp>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cltci::data {

class CachedDataset;

/// What the loader reads samples from: the cache, or anything else that serves square images.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual std::int64_t size() const = 0;
  /// Square CV_8UC1 / CV_16UC1 / CV_32FC1 image (may be a view into shared storage).
  virtual cv::Mat image(std::int64_t index) const = 0;
  /// CV_8UC1 label map of the image's size, or empty when unlabelled.
  virtual cv::Mat labels(std::int64_t index) const = 0;
  virtual std::int64_t patient_index(std::int64_t index) const = 0;
  /// For error messages (the source file's name).
  virtual std::string name(std::int64_t index) const = 0;
};

/// A CachedDataset as a SampleSource (the dataset must outlive it).
class CachedSource : public SampleSource {
 public:
  explicit CachedSource(const CachedDataset& dataset) : dataset_(dataset) {}
  std::int64_t size() const override;
  cv::Mat image(std::int64_t index) const override;
  cv::Mat labels(std::int64_t index) const override;
  std::int64_t patient_index(std::int64_t index) const override;
  std::string name(std::int64_t index) const override;

 private:
  const CachedDataset& dataset_;
};

enum class LoaderMode {
  kContrastive,   ///< two augmented views per image, patient numbers
  kSegmentation,  ///< one augmented image and its label map
};

struct LoaderOptions {
  LoaderMode mode = LoaderMode::kContrastive;
  int workers = 2;         ///< threads producing batches (>= 1)
  int prefetch = 4;        ///< batches produced ahead of the consumer (>= 1)
  std::uint64_t seed = 0;  ///< the run's seed
  AugmentOptions augment;  ///< output_size 0 keeps the cached size
  /// Leaves the pixel work to to_device() (data/batch_augment.h, the GPU data path): the
  /// workers gather the cached images as they are, one byte a pixel for 8-bit caches, and draw
  /// each view's plan; the views are the same draws as the workers' own augmentation would make.
  bool defer_augmentation = false;
  /// Batch tensors in page-locked memory (needs CUDA), so that to_device() copies asynchronously.
  bool pin_memory = false;
};

/// One batch. Images are float32 in [0, 1], [B, 1, S, S]; in contrastive mode `view1` and
/// `view2` are set, in segmentation mode `image` and `mask` ([B, S, S] int64, 0/1/2/255).
struct LoaderBatch {
  std::int64_t number = 0;  ///< batch number within the epoch
  at::Tensor view1, view2;
  at::Tensor image, mask;
  at::Tensor patient;  ///< [B] int64 patient numbers
  at::Tensor index;    ///< [B] int64 data set indices
  /// Deferred augmentation: the cached images [B, 1, S, S] (uint8, uint16 or float32, as
  /// cached), their label maps [B, S, S] uint8 (segmentation), and the plans of view 1 (or the
  /// segmentation image) and view 2. The views above are then empty until to_device().
  at::Tensor source, source_labels;
  AugmentPlan plan1, plan2;
};

/// Sample `j` of batch `b` has epoch position p = (sizes of batches before b) + j, and view v is
/// augmented with derive_seed(seed, {epoch, p, v}): positions rather than data set indices, so
/// an image drawn twice in one epoch (patient sampler with replacement) gets different views.
class Loader {
 public:
  /// `source` must outlive the loader.
  Loader(const SampleSource& source, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Starts producing `batches`; an unfinished previous epoch is abandoned. `first_positions`
  /// (one per batch) places each batch in the epoch for the augmentation seeds, as a data-
  /// parallel shard needs (data::shard_epoch); empty: the batches are the whole epoch, back to
  /// back.
  void start_epoch(std::int64_t epoch,
                   std::vector<Batch> batches,
                   std::vector<std::int64_t> first_positions = {});

  /// The next batch in order, or nullopt after the epoch's last one. A worker's exception is
  /// rethrown here (common::InputError / common::Error naming the sample and its file).
  std::optional<LoaderBatch> next();

  /// `batch` on `device`, its views (or image and mask) complete: a deferred augmentation is
  /// done there, in one batched pass per view. Copies are asynchronous from pinned batches.
  LoaderBatch to_device(const LoaderBatch& batch, c10::Device device) const;

 private:
  struct Result {
    std::optional<LoaderBatch> batch;
    std::exception_ptr error;
  };
  void work();
  LoaderBatch produce(std::int64_t epoch,
                      std::int64_t number,
                      const Batch& batch,
                      std::int64_t first_position) const;

  const SampleSource& source_;
  LoaderOptions options_;
  int output_size_ = 0;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable result_ready_;
  bool stop_ = false;
  std::uint64_t generation_ = 0;
  std::int64_t epoch_ = 0;
  std::vector<Batch> batches_;
  std::vector<std::int64_t> first_position_;
  std::size_t next_to_produce_ = 0;
  std::size_t next_to_consume_ = 0;
  std::map<std::size_t, Result> ready_;
  std::vector<std::thread> workers_;
};

}  // namespace cltci::data
