#include "cltci/run/evaluate_scoring.h"

#include "cltci/common/error.h"
#include "cltci/common/run_directory.h"
#include "cltci/data/image_batch.h"
#include "cltci/run/bridges.h"
#include "cltci/run/segmentation_model.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Whether every image a cell of `plan` is scored on has a known pixel spacing.
bool spacing_known(const data::CachedDataset& dataset, const CellPlan& plan) {
  for (const auto& cell : plan.cells) {
    for (const std::int64_t index : plan.test(cell.fold)) {
      const std::array<double, 2> mm = dataset.pixel_spacing(index);
      if (!(mm[0] > 0.0) || !(mm[1] > 0.0)) return false;
    }
  }
  return true;
}

/// The {row, column} size of a cached pixel of image `index`. Distances are measured on the
/// cached square, whose pixel is 1/scale native pixels (the resize is isotropic), times the
/// native spacing when it is known.
std::array<double, 2> cached_pixel_size(const data::CachedDataset& dataset,
                                        std::int64_t index,
                                        bool in_mm) {
  const double native_per_cached = 1.0 / dataset.geometry(index).scale;
  if (!in_mm) return {native_per_cached, native_per_cached};
  const std::array<double, 2> mm = dataset.pixel_spacing(index);
  return {mm[0] * native_per_cached, mm[1] * native_per_cached};
}

/// A cell's model, on the device; one trained at another size than the cache is refused.
SegmentationModel load_cell_model(const FinetuneRun& run, const Cell& cell, c10::Device device) {
  const fs::path model_file = run.directory / cell.directory / kModelFile;
  auto model = load_segmentation_model(model_file);
  if (model.image_size != run.dataset.image_size()) {
    throw common::InputError(model_file.string() + ": trained at " +
                             std::to_string(model.image_size) + " px, the data set is cached at " +
                             std::to_string(run.dataset.image_size()));
  }
  model.net->to(device);
  return model;
}

/// Dice counts and surface distances of one predicted label map against the ground truth.
ImageScore score_image(const torch::Tensor& prediction,
                       const cv::Mat& truth,
                       std::int64_t classes,
                       std::array<double, 2> pixel_size) {
  const auto truth_tensor =
      torch::from_blob(truth.clone().data, {truth.rows, truth.cols}, torch::kUInt8).clone();
  ImageScore image;
  image.counts = engine::count_classes(prediction, truth_tensor, classes);
  image.distances = engine::surface_distances(prediction, truth_tensor, classes, pixel_size);
  for (const auto& counts : image.counts) image.dice.push_back(engine::dice(counts));
  return image;
}

/// Adds one of the cell's `fold_images` test images to its sums.
void add_image(CellResult& cell, ImageScore image, std::size_t fold_images) {
  for (std::size_t c = 0; c < image.counts.size(); ++c) {
    cell.score.pooled[c] += image.counts[c];
    cell.score.per_image_mean[c] += image.dice[c] / static_cast<double>(fold_images);
    cell.surfaces.add(c, image.distances[c]);
  }
  cell.image_dice.push_back(mean_of_finite(image.dice));
  cell.images.push_back(std::move(image));
}

void log_cell(const CellResult& cell, const char* unit) {
  const engine::CellScore& score = cell.score;
  spdlog::info(
      "[evaluate] fold {} M={} seed {}: pooled Dice {:.4f} (left {:.4f}, right {:.4f}), "
      "per-image {:.4f} over {} images",
      score.fold, score.budget, score.seed, score.pooled_dice(), engine::dice(score.pooled[0]),
      engine::dice(score.pooled[1]), score.per_image_dice(), score.images);
  spdlog::info(
      "[evaluate] fold {} M={} seed {}: HD95 {:.2f} {}, ASSD {:.2f} {} (mean of the lungs "
      "over images where both masks are non-empty)",
      score.fold, score.budget, score.seed,
      mean_of_finite({cell.surfaces.hd95(0), cell.surfaces.hd95(1)}), unit,
      mean_of_finite({cell.surfaces.assd(0), cell.surfaces.assd(1)}), unit);
}

/// One cell's model over its test fold, `batch_size` images a forward pass.
CellResult score_cell(const FinetuneRun& run,
                      const Cell& cell,
                      bool in_mm,
                      std::int64_t batch_size,
                      c10::Device device,
                      const SegmentedImageSink& sink) {
  const auto model = load_cell_model(run, cell, device);
  const auto test = run.plan.test(cell.fold);
  const std::int64_t classes = model.spec.classes;
  const auto lungs = static_cast<std::size_t>(classes - 1);
  CellResult result;
  result.score.fold = cell.fold;
  result.score.budget = cell.budget;
  result.score.seed = cell.seed;
  result.score.images = static_cast<std::int64_t>(test.size());
  result.score.pooled.assign(lungs, {});
  result.score.per_image_mean.assign(lungs, 0.0);
  result.surfaces = SurfaceTally(lungs);
  const auto step = static_cast<std::size_t>(batch_size);
  for (std::size_t start = 0; start < test.size(); start += step) {
    const std::size_t end = std::min(test.size(), start + step);
    std::vector<cv::Mat> images;
    for (std::size_t i = start; i < end; ++i) images.push_back(run.dataset.image(test[i]));
    const auto predictions = predict_labels(*model.net, data::images_to_batch(images), device);
    for (std::size_t i = start; i < end; ++i) {
      const std::int64_t index = test[i];
      const torch::Tensor prediction = predictions[static_cast<std::int64_t>(i - start)];
      const cv::Mat truth = run.dataset.labels(index);
      ImageScore image =
          score_image(prediction, truth, classes, cached_pixel_size(run.dataset, index, in_mm));
      image.index = index;
      add_image(result, std::move(image), test.size());
      if (sink) sink(cell, SegmentedImage{index, label_mat(prediction), truth});
    }
  }
  log_cell(result, in_mm ? "mm" : "px");
  return result;
}

}  // namespace

FinetuneRun open_finetune_run(const fs::path& directory) {
  const fs::path config_file = directory / common::kRunConfigFile;
  if (!fs::exists(config_file)) {
    throw common::InputError("finetune_run: " + directory.string() +
                             " is not a finetune run (it has no config.yaml)");
  }
  auto config = config::load_finetune_config(config_file, {});
  auto dataset = open_dataset(config.data);
  auto plan = plan_cells(dataset, config, directory);
  for (const auto& cell : plan.cells) {
    const fs::path model_file = directory / cell.directory / kModelFile;
    if (!fs::exists(model_file)) {
      throw common::InputError("finetune_run: " + model_file.string() +
                               " is missing; run finetune to the end first");
    }
  }
  return FinetuneRun{directory, std::move(config), std::move(dataset), std::move(plan)};
}

double mean_of_finite(const std::vector<double>& values) {
  double sum = 0.0;
  int n = 0;
  for (const double v : values) {
    if (std::isfinite(v)) {
      sum += v;
      ++n;
    }
  }
  return n ? sum / n : kNaN;
}

SurfaceTally::SurfaceTally(std::size_t classes)
    : hd95_sum(classes, 0.0), assd_sum(classes, 0.0), defined(classes, 0), status(classes) {}

void SurfaceTally::add(std::size_t c, const engine::SurfaceDistances& distances) {
  ++status[c][static_cast<std::size_t>(distances.status)];
  if (distances.status != engine::SurfaceStatus::kDefined) return;
  hd95_sum[c] += distances.hd95;
  assd_sum[c] += distances.assd;
  ++defined[c];
}

double SurfaceTally::hd95(std::size_t c) const {
  return defined[c] ? hd95_sum[c] / static_cast<double>(defined[c]) : kNaN;
}

double SurfaceTally::assd(std::size_t c) const {
  return defined[c] ? assd_sum[c] / static_cast<double>(defined[c]) : kNaN;
}

std::vector<engine::CellScore> RunScores::cell_scores() const {
  std::vector<engine::CellScore> scores;
  for (const auto& cell : cells) scores.push_back(cell.score);
  return scores;
}

RunScores score_finetune_run(const FinetuneRun& run,
                             std::int64_t batch_size,
                             c10::Device device,
                             const SegmentedImageSink& sink) {
  RunScores scores;
  scores.in_mm = spacing_known(run.dataset, run.plan);
  for (const auto& cell : run.plan.cells) {
    scores.cells.push_back(score_cell(run, cell, scores.in_mm, batch_size, device, sink));
  }
  return scores;
}

torch::Tensor predict_labels(models::SegmentationNet& net,
                             const torch::Tensor& batch,
                             c10::Device device) {
  torch::NoGradGuard no_grad;
  return net.forward(batch.to(device)).argmax(1).to(torch::kCPU, torch::kUInt8);
}

cv::Mat label_mat(const torch::Tensor& labels) {
  auto contiguous = labels.contiguous();
  return cv::Mat(static_cast<int>(labels.size(0)), static_cast<int>(labels.size(1)), CV_8UC1,
                 contiguous.data_ptr<std::uint8_t>())
      .clone();
}

}  // namespace cltci::run
