#include "cltci/data/loader.h"

#include "cltci/common/error.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/phantom.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

const CachedDataset& tiny_phantom() {
  static const CachedDataset dataset = [] {
    PhantomOptions phantom;
    phantom.patients = 6;
    phantom.min_images = 1;
    phantom.max_images = 4;
    phantom.width = 48;
    phantom.height = 40;
    CacheOptions options;
    options.image_size = 32;
    options.threads = 2;
    return build_cache(phantom_sources(phantom), options);
  }();
  return dataset;
}

std::vector<LoaderBatch> run_epoch(const SampleSource& source,
                                   LoaderOptions options,
                                   std::int64_t epoch,
                                   const std::vector<Batch>& batches) {
  Loader loader(source, options);
  loader.start_epoch(epoch, batches);
  std::vector<LoaderBatch> out;
  while (auto batch = loader.next()) out.push_back(std::move(*batch));
  return out;
}

TEST(LoaderTest, ContrastiveBatchesHaveTwoViewsAndPatientNumbers) {
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  PatientBatchSampler sampler(data.patient_indices(), {3, 2, false}, 5);
  const auto batches = sampler.epoch(0);
  LoaderOptions options;
  options.seed = 5;
  const auto out = run_epoch(source, options, 0, batches);
  ASSERT_EQ(out.size(), batches.size());
  for (std::size_t b = 0; b < out.size(); ++b) {
    const LoaderBatch& batch = out[b];
    EXPECT_EQ(batch.number, static_cast<std::int64_t>(b));
    const auto n = static_cast<std::int64_t>(batches[b].size());
    EXPECT_EQ(batch.view1.sizes(), (std::vector<std::int64_t>{n, 1, 32, 32}));
    EXPECT_EQ(batch.view1.scalar_type(), torch::kFloat32);
    EXPECT_GE(batch.view1.min().item<float>(), 0.0F);
    EXPECT_LE(batch.view2.max().item<float>(), 1.0F);
    EXPECT_GT((batch.view1 - batch.view2).abs().sum().item<float>(), 1.0F);
    EXPECT_EQ(batch.index.scalar_type(), torch::kInt64);
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t index = batches[b][static_cast<std::size_t>(j)];
      EXPECT_EQ(batch.index[j].item<std::int64_t>(), index);
      EXPECT_EQ(batch.patient[j].item<std::int64_t>(), data.patient_index(index));
    }
  }
}

TEST(LoaderTest, BatchesDoNotDependOnTheWorkerCount) {
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  std::vector<std::int64_t> all(static_cast<std::size_t>(data.size()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  const auto batches = make_batches(shuffled_epoch(all, 3, 1), 4, false);
  LoaderOptions one;
  one.seed = 3;
  one.workers = 1;
  one.prefetch = 1;
  const auto a = run_epoch(source, one, 1, batches);
  for (const int workers : {2, 3}) {
    LoaderOptions many = one;
    many.workers = workers;
    many.prefetch = 5;
    const auto b = run_epoch(source, many, 1, batches);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::equal(a[i].view1, b[i].view1)) << workers << " workers, batch " << i;
      EXPECT_TRUE(torch::equal(a[i].view2, b[i].view2));
      EXPECT_TRUE(torch::equal(a[i].patient, b[i].patient));
    }
  }
  const auto c = run_epoch(source, one, 2, batches);
  EXPECT_FALSE(torch::equal(a[0].view1, c[0].view1));
}

TEST(LoaderTest, SegmentationBatchesPairImagesWithMasks) {
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  LoaderOptions options;
  options.mode = LoaderMode::kSegmentation;
  options.augment = AugmentOptions::identity();
  const auto out = run_epoch(source, options, 0, {{0, 3}});
  ASSERT_EQ(out.size(), 1U);
  const LoaderBatch& batch = out[0];
  EXPECT_EQ(batch.mask.sizes(), (std::vector<std::int64_t>{2, 32, 32}));
  EXPECT_EQ(batch.mask.scalar_type(), torch::kInt64);
  for (std::int64_t j = 0; j < 2; ++j) {
    const std::int64_t index = j == 0 ? 0 : 3;
    const cv::Mat labels = data.labels(index);
    const auto expected_mask =
        torch::from_blob(labels.data, {32, 32}, torch::kUInt8).to(torch::kInt64);
    EXPECT_TRUE(torch::equal(batch.mask[j], expected_mask));
    const cv::Mat image = data.image(index);
    const auto expected_image =
        torch::from_blob(image.data, {1, 32, 32}, torch::kUInt8).to(torch::kFloat32) / 255;
    EXPECT_TRUE(torch::allclose(batch.image[j], expected_image, 0, 1e-6));
  }
}

TEST(LoaderTest, DeferredAugmentationGivesTheSameViewsOnTheDevice) {
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  const std::vector<Batch> batches{{0, 1, 2, 3}, {4, 5, 6}};
  LoaderOptions options;
  options.seed = 11;
  options.augment.output_size = 24;
  options.augment.flip_probability = 0.5;
  const auto eager = run_epoch(source, options, 2, batches);
  options.defer_augmentation = true;
  Loader loader(source, options);
  loader.start_epoch(2, batches);
  for (const LoaderBatch& expected : eager) {
    const auto gathered = loader.next();
    ASSERT_TRUE(gathered.has_value());
    // Gathered: the cached uint8 images, one plan per view, no views yet.
    EXPECT_EQ(gathered->source.scalar_type(), torch::kUInt8);
    EXPECT_EQ(gathered->source.size(2), 32);
    EXPECT_FALSE(gathered->view1.defined());
    EXPECT_EQ(gathered->plan2.theta.size(0), expected.view1.size(0));
    const LoaderBatch batch = loader.to_device(*gathered, torch::kCPU);
    ASSERT_EQ(batch.view1.sizes(), expected.view1.sizes());
    EXPECT_TRUE(torch::equal(batch.patient, expected.patient));
    EXPECT_TRUE(torch::equal(batch.index, expected.index));
    // The same draws; only the interpolation differs (OpenCV's 1/32-pixel weights).
    for (const auto& [mine, theirs] :
         {std::pair{batch.view1, expected.view1}, std::pair{batch.view2, expected.view2}}) {
      EXPECT_LT((mine - theirs).abs().mean().item<float>(), 4e-3F);
    }
    EXPECT_GT((batch.view1 - batch.view2).abs().mean().item<float>(), 0.01F);
  }
  EXPECT_FALSE(loader.next().has_value());
}

TEST(LoaderTest, DeferredSegmentationAugmentsImagesAndMasksTogether) {
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  LoaderOptions options;
  options.mode = LoaderMode::kSegmentation;
  options.seed = 4;
  options.augment.flip_probability = 0.5;
  const auto eager = run_epoch(source, options, 0, {{0, 3, 5, 7}});
  options.defer_augmentation = true;
  Loader loader(source, options);
  loader.start_epoch(0, {{0, 3, 5, 7}});
  const auto gathered = loader.next();
  ASSERT_TRUE(gathered.has_value());
  EXPECT_EQ(gathered->source_labels.sizes(), (std::vector<std::int64_t>{4, 32, 32}));
  const LoaderBatch batch = loader.to_device(*gathered, torch::kCPU);
  ASSERT_EQ(batch.mask.sizes(), eager[0].mask.sizes());
  EXPECT_EQ(batch.mask.scalar_type(), torch::kInt64);
  EXPECT_GT(batch.mask.eq(eager[0].mask).to(torch::kDouble).mean().item<double>(), 0.98);
  EXPECT_LT((batch.image - eager[0].image).abs().mean().item<float>(), 4e-3F);
}

TEST(LoaderTest, PinnedDeferredBatchesReachTheGpuAugmented_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const CachedDataset& data = tiny_phantom();
  const CachedSource source(data);
  LoaderOptions options;
  options.seed = 2;
  options.defer_augmentation = true;
  const auto on_cpu = run_epoch(source, options, 1, {{0, 1, 2, 3}});
  options.pin_memory = true;
  Loader loader(source, options);
  loader.start_epoch(1, {{0, 1, 2, 3}});
  const auto pinned = loader.next();
  ASSERT_TRUE(pinned.has_value());
  EXPECT_TRUE(pinned->source.is_pinned());
  EXPECT_TRUE(pinned->plan1.theta.is_pinned());
  const LoaderBatch gpu = loader.to_device(*pinned, torch::kCUDA);
  const LoaderBatch cpu = loader.to_device(on_cpu[0], torch::kCPU);
  ASSERT_TRUE(gpu.view1.is_cuda());
  EXPECT_TRUE(gpu.patient.is_cuda());
  EXPECT_LT((gpu.view1.cpu() - cpu.view1).abs().max().item<float>(), 1e-4F);
  EXPECT_LT((gpu.view2.cpu() - cpu.view2).abs().max().item<float>(), 1e-4F);
}

TEST(LoaderTest, PinnedBatchesNeedCuda) {
  LoaderOptions options;
  options.pin_memory = true;
  const CachedSource source(tiny_phantom());
  if (torch::cuda::is_available()) {
    EXPECT_NO_THROW(Loader(source, options));
  } else {
    EXPECT_THROW(Loader(source, options), common::InputError);
  }
}

// A source whose sample 3 cannot be read, as a corrupt file would.
class BrokenSource : public SampleSource {
 public:
  explicit BrokenSource(const CachedDataset& data) : inner_(data) {}
  std::int64_t size() const override { return inner_.size(); }
  cv::Mat image(std::int64_t index) const override {
    if (index == 3) throw common::InputError("truncated PNG");
    return inner_.image(index);
  }
  cv::Mat labels(std::int64_t index) const override { return inner_.labels(index); }
  std::int64_t patient_index(std::int64_t index) const override {
    return inner_.patient_index(index);
  }
  std::string name(std::int64_t index) const override {
    return "scans/" + std::to_string(index) + ".png";
  }

 private:
  CachedSource inner_;
};

TEST(LoaderTest, WorkerErrorsReachTheCallerWithTheFileName) {
  const BrokenSource source(tiny_phantom());
  LoaderOptions options;
  options.workers = 2;
  Loader loader(source, options);
  loader.start_epoch(4, {{0, 1}, {2, 3}, {4, 5}});
  EXPECT_TRUE(loader.next().has_value());
  try {
    loader.next();
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_STREQ(e.what(), "loader: epoch 4, batch 1, sample 3 ('scans/3.png'): truncated PNG");
  }
  // The loader goes on with the batches after the failed one.
  const auto last = loader.next();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->number, 2);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(LoaderTest, StopsCleanlyInTheMiddleOfAnEpoch) {
  const CachedSource source(tiny_phantom());
  std::vector<Batch> batches(40, Batch{0, 1, 2, 3});
  LoaderOptions options;
  options.workers = 2;
  options.prefetch = 2;
  {
    Loader loader(source, options);
    loader.start_epoch(0, batches);
    ASSERT_TRUE(loader.next().has_value());
    loader.start_epoch(1, batches);  // abandons epoch 0's queue
    const auto first = loader.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->number, 0);
  }  // joins the workers while they are mid-epoch
}

}  // namespace
}  // namespace cltci::data
