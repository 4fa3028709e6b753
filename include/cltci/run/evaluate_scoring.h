// evaluate's scoring of a fine-tuning run: each cell's model run on its held-out fold, with
// per-image and pooled Dice and the surface distances (HD95, ASSD) accumulated into plain structs,
// so that the writers (evaluate_writers.h) format them without touching a model.
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/engine/dice.h"
#include "cltci/engine/fold_summary.h"
#include "cltci/engine/surface_distance.h"
#include "cltci/models/encoder.h"
#include "cltci/run/finetune_cells.h"

#include <c10/core/Device.h>
#include <opencv2/core.hpp>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cltci::run {

/// A finished fine-tuning run opened for scoring: its config, its data set and its cells.
struct FinetuneRun {
  std::filesystem::path directory;
  config::FinetuneConfig config;
  data::CachedDataset dataset;
  CellPlan plan;
};

/// Reads `<directory>/config.yaml`, opens its data set and plans its cells. Every cell's model
/// is looked for here, before evaluate makes its run directory, so that a missing one leaves no
/// partial _eval directory behind; a directory that is not a fine-tuning run, or a missing
/// model, is a common::InputError.
FinetuneRun open_finetune_run(const std::filesystem::path& directory);

/// Mean of the finite values (the lungs with a value); NaN when none has one.
double mean_of_finite(const std::vector<double>& values);

/// One test image scored: entry c of each vector is lung class c + 1.
struct ImageScore {
  std::int64_t index = 0;  ///< data set index
  std::vector<engine::ClassCounts> counts;
  std::vector<double> dice;
  std::vector<engine::SurfaceDistances> distances;
};

/// A cell's surface distances per lung class: means over the images where both masks are
/// non-empty, and how many images fell under each engine::SurfaceStatus.
struct SurfaceTally {
  std::vector<double> hd95_sum, assd_sum;  ///< over the images with defined distances
  std::vector<std::int64_t> defined;
  std::vector<std::array<std::int64_t, 4>> status;  ///< images per SurfaceStatus

  explicit SurfaceTally(std::size_t classes = 0);
  void add(std::size_t c, const engine::SurfaceDistances& distances);
  std::size_t classes() const { return defined.size(); }
  /// NaN when no image of the cell has a defined distance for class c.
  double hd95(std::size_t c) const;
  double assd(std::size_t c) const;
};

/// One (fold, M, seed) cell scored on its held-out fold.
struct CellResult {
  engine::CellScore score;         ///< pooled and mean per-image Dice
  SurfaceTally surfaces;           ///< HD95 / ASSD
  std::vector<double> image_dice;  ///< per image: mean Dice of the lung classes
  std::vector<ImageScore> images;  ///< in test-fold order, the rows of results.csv
};

/// Every cell of a run, in plan order.
struct RunScores {
  /// Distances in mm when every scored image has a known pixel spacing, else in native pixels:
  /// one unit per run, so that cells and tables never mix them.
  bool in_mm = false;
  std::vector<CellResult> cells;

  const char* unit() const { return in_mm ? "mm" : "px"; }
  std::vector<engine::CellScore> cell_scores() const;
};

/// A test image as its cell's model segmented it, at the cached resolution, for the writers
/// that need the maps themselves (overlays) without scoring keeping them all.
struct SegmentedImage {
  std::int64_t index = 0;  ///< data set index
  cv::Mat predicted;       ///< label map (CV_8UC1)
  cv::Mat truth;           ///< ground-truth label map (CV_8UC1)
};
using SegmentedImageSink = std::function<void(const Cell&, const SegmentedImage&)>;

/// Scores every cell of `run` on the device, `batch_size` images a forward pass; `sink` (may be
/// empty) sees each image as it is segmented.
RunScores score_finetune_run(const FinetuneRun& run,
                             std::int64_t batch_size,
                             c10::Device device,
                             const SegmentedImageSink& sink);

/// Arg-max label maps [B, S, S] (uint8, on the CPU) of an image batch.
torch::Tensor predict_labels(models::SegmentationNet& net,
                             const torch::Tensor& batch,
                             c10::Device device);

/// A [H, W] uint8 label tensor as its own CV_8UC1 matrix.
cv::Mat label_mat(const torch::Tensor& labels);

}  // namespace cltci::run
