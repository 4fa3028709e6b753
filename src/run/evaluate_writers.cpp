#include "cltci/run/evaluate_writers.h"

#include "cltci/analysis/percentile.h"
#include "cltci/common/json_writer.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_writers.h"
#include "cltci/engine/overlay.h"

#include <opencv2/core.hpp>

#include <array>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

using Layout = common::JsonWriter::Layout;

/// Six decimals, the precision of every score evaluate writes.
const common::JsonNumber kScore = common::JsonNumber::fixed(6);

/// A CSV cell of a distance: empty where it is undefined (the surface column says why).
std::string csv_distance(double value) {
  return std::isfinite(value) ? common::json_number(value, kScore) : std::string();
}

/// The lung of class c + 1, as the summary names it.
const char* lung_name(std::size_t c) { return c == 0 ? "left" : "right"; }

/// `{"left": x, "right": y, "mean": z}` of a per-lung statistic (null where undefined).
void write_lungs(common::JsonWriter& json, double left, double right, double mean) {
  json.begin_object()
      .member("left", left, kScore)
      .member("right", right, kScore)
      .member("mean", mean, kScore)
      .end_object();
}

/// write_lungs of a per-class statistic, its mean over the classes with a value.
void write_lungs(common::JsonWriter& json, const std::vector<double>& values) {
  write_lungs(json, values[0], values[1], mean_of_finite(values));
}

/// `{"median": .., "q25": .., "q75": .., "p5": ..}` of the per-image Dice (numpy percentiles).
void write_dice_distribution(common::JsonWriter& json, const std::vector<double>& image_dice) {
  json.begin_object();
  for (const auto& [name, percent] : std::array<std::pair<const char*, double>, 4>{
           {{"median", 50.0}, {"q25", 25.0}, {"q75", 75.0}, {"p5", 5.0}}}) {
    json.member(name, analysis::percentile(image_dice, percent), kScore);
  }
  json.end_object();
}

/// Images per engine::SurfaceStatus, per lung.
void write_surface_images(common::JsonWriter& json, const SurfaceTally& surfaces) {
  json.begin_object();
  for (std::size_t c = 0; c < surfaces.classes(); ++c) {
    json.key(lung_name(c)).begin_object();
    for (std::size_t k = 0; k < surfaces.status[c].size(); ++k) {
      json.member(engine::to_string(static_cast<engine::SurfaceStatus>(k)), surfaces.status[c][k]);
    }
    json.end_object();
  }
  json.end_object();
}

/// One cell of summary.json, inline: one line per cell for people and line-oriented tools.
void write_cell(common::JsonWriter& json, const CellResult& cell) {
  const engine::CellScore& s = cell.score;
  const SurfaceTally& surfaces = cell.surfaces;
  json.begin_object(Layout::kInline)
      .member("fold", s.fold)
      .member("budget", s.budget)
      .member("seed", s.seed)
      .member("images", s.images);
  json.key("pooled");
  write_lungs(json, engine::dice(s.pooled[0]), engine::dice(s.pooled[1]), s.pooled_dice());
  json.key("per_image");
  write_lungs(json, s.per_image_mean[0], s.per_image_mean[1], s.per_image_dice());
  json.key("per_image_dice");
  write_dice_distribution(json, cell.image_dice);
  std::vector<double> hd95;
  std::vector<double> assd;
  for (std::size_t c = 0; c < surfaces.classes(); ++c) {
    hd95.push_back(surfaces.hd95(c));
    assd.push_back(surfaces.assd(c));
  }
  json.key("hd95");
  write_lungs(json, hd95);
  json.key("assd");
  write_lungs(json, assd);
  json.key("surface_images");
  write_surface_images(json, surfaces);
  json.end_object();
}

}  // namespace

std::string results_csv(const FinetuneRun& run, const RunScores& scores) {
  const std::string unit = scores.unit();
  std::ostringstream csv;
  csv << "fold,budget,seed,image,patient,class,dice,tp,fp,fn,hd95_" << unit << ",assd_" << unit
      << ",surface\n";
  for (const CellResult& cell : scores.cells) {
    const engine::CellScore& s = cell.score;
    for (const ImageScore& image : cell.images) {
      const std::string image_fields = data::csv_field(run.dataset.name(image.index)) + ',' +
                                       data::csv_field(run.dataset.patient_id(image.index));
      for (std::size_t c = 0; c < image.counts.size(); ++c) {
        const engine::ClassCounts& counts = image.counts[c];
        const engine::SurfaceDistances& distances = image.distances[c];
        csv << s.fold << ',' << s.budget << ',' << s.seed << ',' << image_fields << ',' << c + 1
            << ',' << common::json_number(image.dice[c], kScore) << ',' << counts.tp << ','
            << counts.fp << ',' << counts.fn << ',' << csv_distance(distances.hd95) << ','
            << csv_distance(distances.assd) << ',' << engine::to_string(distances.status) << '\n';
      }
    }
  }
  return csv.str();
}

OverlayWriter::OverlayWriter(const FinetuneRun& run, fs::path directory, std::int64_t per_fold)
    : dataset_(run.dataset),
      directory_(std::move(directory)),
      per_fold_(per_fold),
      budget_(run.config.budgets.back()),
      seed_(run.config.seeds.front()) {}

void OverlayWriter::operator()(const Cell& cell, const SegmentedImage& image) {
  if (cell.budget != budget_ || cell.seed != seed_) return;
  std::int64_t& written = written_[cell.directory];
  if (written >= per_fold_) return;
  const cv::Mat picture =
      engine::draw_overlay(dataset_.image(image.index), image.predicted, image.truth);
  data::write_png(
      directory_ / ("fold" + std::to_string(cell.fold) + "_m" + std::to_string(cell.budget) + "_" +
                    std::to_string(written) + ".png"),
      picture);
  ++written;
}

std::string evaluation_summary(const FinetuneRun& run, const RunScores& scores) {
  const config::FinetuneConfig& finetune = run.config;
  common::JsonWriter json;
  json.begin_object()
      .member("finetune_run", run.directory.string())
      .member("initialisation", initialisation_name(finetune))
      .member("arch", finetune.model.arch)
      .member("dice",
              "per lung class (1 = left, 2 = right), background excluded; pooled = TP/FP/FN "
              "summed over a fold's test images (the paper's number), per_image = mean of "
              "per-image Dice; both at the cached resolution")
      .member("empty_mask_rule", engine::kEmptyMaskRule)
      .member("surface_unit", scores.unit())
      .member("surface",
              std::string("HD95 and ASSD as MONAI computes them (per image and lung, "
                          "on the cached square, in ") +
                  (scores.in_mm ? "mm from each image's pixel spacing" : "native pixels") +
                  "); a cell's value is the mean over its images with both masks "
                  "non-empty, then over the two lungs")
      .member("surface_empty_rule", engine::kSurfaceEmptyRule);
  json.key("cells").begin_array();
  for (const CellResult& cell : scores.cells) write_cell(json, cell);
  json.end_array();
  json.key("by_budget").begin_object(Layout::kInline);
  for (const auto& [budget, stats] : engine::summarise_by_budget(scores.cell_scores())) {
    json.key(std::to_string(budget))
        .begin_object()
        .member("mean", stats.mean, kScore)
        .member("std", stats.std, kScore)
        .member("cells", stats.n)
        .member("folds", finetune.folds.k)
        .member("seeds", finetune.seeds.size())
        .end_object();
  }
  json.end_object();
  json.end_object();
  return json.text();
}

std::string segmentation_summary(const std::string& checkpoint, std::size_t images) {
  common::JsonWriter json;
  json.begin_object()
      .member("checkpoint", checkpoint)
      .member("images", images)
      .member("masks", "segmentations/")
      .end_object();
  return json.text();
}

}  // namespace cltci::run
