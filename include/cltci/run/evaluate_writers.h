// evaluate's outputs from scores already computed (evaluate_scoring.h): results.csv (one row per
// image and lung), the overlays of a fold's first test images, and summary.json (written with
// common::JsonWriter; report and sweep read it back with yaml-cpp, so its keys and layout stay).
#pragma once

#include "cltci/run/evaluate_scoring.h"
#include "cltci/run/finetune_cells.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace cltci::run {

/// results.csv: `fold,budget,seed,image,patient,class,dice,tp,fp,fn,hd95_<unit>,assd_<unit>,
/// surface`, six decimals; a distance is empty where it is undefined (the surface column says
/// why).
std::string results_csv(const FinetuneRun& run, const RunScores& scores);

/// Draws the first `per_fold` test images of each fold (segmented by the cell of the largest M
/// and the first seed) as `<directory>/fold<k>_m<M>_<i>.png`. Meant as score_finetune_run's
/// SegmentedImageSink, so the label maps are drawn as they are made and never kept.
class OverlayWriter {
 public:
  OverlayWriter(const FinetuneRun& run, std::filesystem::path directory, std::int64_t per_fold);
  void operator()(const Cell& cell, const SegmentedImage& image);

 private:
  const data::CachedDataset& dataset_;
  std::filesystem::path directory_;
  std::int64_t per_fold_;
  std::int64_t budget_;                          ///< the largest M
  std::int64_t seed_;                            ///< the first fine-tuning seed
  std::map<std::string, std::int64_t> written_;  ///< overlays so far, by cell directory
};

/// summary.json of a scored fine-tuning run: what the numbers mean, one line per cell (pooled
/// and per-image Dice, the per-image Dice distribution, HD95, ASSD, images per surface status),
/// and mean(std) of the pooled Dice per M.
std::string evaluation_summary(const FinetuneRun& run, const RunScores& scores);

/// summary.json of `evaluate --checkpoint`: the model, how many images it segmented and where
/// the masks are.
std::string segmentation_summary(const std::string& checkpoint, std::size_t images);

}  // namespace cltci::run
