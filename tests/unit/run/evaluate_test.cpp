// evaluate's surface metrics and Dice distributions (issue #10): results.csv rows and
// summary.json cells agree with each other, and a known pixel spacing turns native pixels into
// millimetres. The summaries' exact text is pinned too: report and sweep read them back.
#include "cltci/run/evaluate.h"

#include "cltci/analysis/percentile.h"
#include "cltci/config/evaluate_config.h"
#include "cltci/config/finetune_config.h"
#include "cltci/data/csv.h"
#include "cltci/data/manifest.h"
#include "cltci/data/phantom_export.h"
#include "cltci/engine/dice.h"
#include "cltci/engine/surface_distance.h"
#include "cltci/run/evaluate_scoring.h"
#include "cltci/run/evaluate_writers.h"
#include "cltci/run/finetune.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `manifest` with the same pixel spacing given for every row.
fs::path with_spacing(const fs::path& manifest,
                      const std::string& row_mm,
                      const std::string& col_mm) {
  data::Manifest spaced = data::load_manifest(manifest);
  for (data::ManifestRow& row : spaced.rows) {
    row.spacing_row_mm = std::stod(row_mm);
    row.spacing_col_mm = std::stod(col_mm);
  }
  const fs::path file = manifest.parent_path() / "manifest_mm.csv";
  data::save_manifest(spaced, file);
  return file;
}

struct Row {
  double dice = 0.0;
  std::string hd95;
  std::string assd;
  std::string status;
};
/// results.csv by (fold, image, class).
using Rows = std::map<std::tuple<std::string, std::string, std::string>, Row>;

Rows read_rows(const fs::path& file, std::string& header) {
  const auto records = data::parse_csv(read_text(file), file.string());
  Rows rows;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    if (r == 0) {
      for (std::size_t c = 0; c < f.size(); ++c) header += (c ? "," : "") + f[c];
      continue;
    }
    rows[{f[0], f[3], f[5]}] = Row{std::stod(f[6]), f[10], f[11], f[12]};
  }
  return rows;
}

/// The number after `"key": ` in the first cell of fold `fold` of summary.json (NaN for null).
double cell_value(const std::string& summary, int fold, const std::string& path) {
  const std::regex cell("\\{\"fold\": " + std::to_string(fold) + ", [^\\n]*");
  std::smatch line;
  EXPECT_TRUE(std::regex_search(summary, line, cell)) << "no cell of fold " << fold;
  std::string rest = line.str();
  std::size_t at = 0;
  std::istringstream keys(path);
  std::string key;
  while (std::getline(keys, key, '.')) {
    at = rest.find("\"" + key + "\": ", at);
    EXPECT_NE(at, std::string::npos) << path;
    at += key.size() + 4;
  }
  if (rest.compare(at, 4, "null") == 0) return std::nan("");
  return std::stod(rest.substr(at));
}

TEST(EvaluateSurface, CellsSummariseTheirRowsAndSpacingGivesMillimetres) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  testing::TempDir dir;
  data::PhantomOptions phantom;
  phantom.version = 1;
  phantom.patients = 12;
  phantom.min_images = 1;
  phantom.max_images = 3;
  const fs::path manifest =
      data::export_phantom(dir / "data", phantom, data::PhantomFormat::kPng).manifest;
  const auto finetune_config = config::load_finetune_config(
      {}, {"run.output_dir=" + dir.path().string(), "run.name=ft", "run.threads=1",
           "data.source.type=manifest", "data.source.path=" + manifest.string(),
           "data.cache_dir=" + (dir / "cache").string(), "data.image_size=32",
           "model.base_channels=4", "model.depth=2", "optim.epochs=3", "optim.batch_size=4",
           "optim.lr=0.01", "folds.k=2", "budgets=[6]"});
  ASSERT_EQ(finetune(finetune_config, {}), 0);
  // The same run read over a manifest that knows the spacing: identical models and images,
  // so every distance is the pixel one times the spacing.
  fs::copy(dir / "ft", dir / "ft_mm", fs::copy_options::recursive);
  const fs::path mm_manifest = with_spacing(manifest, "0.5", "0.5");
  std::string config_text = read_text(dir / "ft_mm" / "config.yaml");
  const std::size_t at = config_text.find(manifest.string());
  ASSERT_NE(at, std::string::npos);
  config_text.replace(at, manifest.string().size(), mm_manifest.string());
  std::ofstream(dir / "ft_mm" / "config.yaml") << config_text;

  for (const std::string name : {"ft", "ft_mm"}) {
    auto evaluation = config::load_evaluate_config(
        {}, {"finetune_run=" + (dir / name).string(), "run.output_dir=" + dir.path().string(),
             "run.name=" + name + "_eval", "overlays_per_fold=0"});
    ASSERT_EQ(evaluate(evaluation, {}), 0) << name;
  }
  std::string px_header;
  std::string mm_header;
  const Rows px = read_rows(dir / "ft_eval" / "results.csv", px_header);
  const Rows mm = read_rows(dir / "ft_mm_eval" / "results.csv", mm_header);
  EXPECT_EQ(px_header,
            "fold,budget,seed,image,patient,class,dice,tp,fp,fn,hd95_px,assd_px,surface");
  EXPECT_EQ(mm_header,
            "fold,budget,seed,image,patient,class,dice,tp,fp,fn,hd95_mm,assd_mm,surface");
  ASSERT_EQ(px.size(), mm.size());
  std::size_t defined = 0;
  for (const auto& [key, row] : px) {
    const Row& other = mm.at(key);
    EXPECT_EQ(row.status, other.status);
    EXPECT_EQ(row.dice, other.dice);
    if (row.status != "defined") {
      EXPECT_TRUE(row.hd95.empty() && row.assd.empty()) << "undefined distances stay empty";
      continue;
    }
    ++defined;
    // 6 decimals in the CSV.
    EXPECT_NEAR(std::stod(other.hd95), 0.5 * std::stod(row.hd95), 1e-5);
    EXPECT_NEAR(std::stod(other.assd), 0.5 * std::stod(row.assd), 1e-5);
  }
  EXPECT_GT(defined, 0U);

  const std::string summary = read_text(dir / "ft_eval" / "summary.json");
  EXPECT_NE(summary.find("\"surface_unit\": \"px\""), std::string::npos);
  EXPECT_NE(read_text(dir / "ft_mm_eval" / "summary.json").find("\"surface_unit\": \"mm\""),
            std::string::npos);
  for (int fold = 0; fold < 2; ++fold) {
    // A cell's HD95 of a lung is the mean over its images with a defined distance; its Dice
    // distribution is numpy's percentiles of the images' mean lung Dice.
    std::map<std::string, std::vector<double>> image_dice;
    for (const std::string lung : {"1", "2"}) {
      double sum = 0.0;
      int n = 0;
      int both_empty = 0;
      for (const auto& [key, row] : px) {
        if (std::get<0>(key) != std::to_string(fold) || std::get<2>(key) != lung) continue;
        image_dice[std::get<1>(key)].push_back(row.dice);
        if (row.status == "defined") {
          sum += std::stod(row.hd95);
          ++n;
        }
        both_empty += row.status == "both_empty";
      }
      const std::string side = lung == "1" ? "left" : "right";
      const double expected = n ? sum / n : std::nan("");
      const double got = cell_value(summary, fold, "hd95." + side);
      if (n) {
        EXPECT_NEAR(got, expected, 1e-5) << "fold " << fold << " " << side;
      } else {
        EXPECT_TRUE(std::isnan(got));
      }
      EXPECT_EQ(cell_value(summary, fold, "surface_images." + side + ".defined"), n);
      EXPECT_EQ(cell_value(summary, fold, "surface_images." + side + ".both_empty"), both_empty);
    }
    std::vector<double> means;
    for (const auto& [image, dice] : image_dice) means.push_back((dice[0] + dice[1]) / 2.0);
    EXPECT_NEAR(cell_value(summary, fold, "per_image_dice.median"),
                analysis::percentile(means, 50.0), 2e-6);
    EXPECT_NEAR(cell_value(summary, fold, "per_image_dice.p5"), analysis::percentile(means, 5.0),
                2e-6);
    EXPECT_NEAR(cell_value(summary, fold, "per_image_dice.q25"), analysis::percentile(means, 25.0),
                2e-6);
  }
}

/// A scored cell built by hand: `pooled` and `per_image` per lung, one image Dice per image.
CellResult hand_cell(std::int64_t fold,
                     std::int64_t budget,
                     std::vector<engine::ClassCounts> pooled,
                     std::vector<double> per_image,
                     std::vector<double> image_dice) {
  CellResult cell;
  cell.score.fold = fold;
  cell.score.budget = budget;
  cell.score.images = static_cast<std::int64_t>(image_dice.size());
  cell.score.pooled = std::move(pooled);
  cell.score.per_image_mean = std::move(per_image);
  cell.image_dice = std::move(image_dice);
  cell.surfaces = SurfaceTally(2);
  return cell;
}

engine::SurfaceDistances distances(engine::SurfaceStatus status,
                                   double hd95 = std::nan(""),
                                   double assd = std::nan("")) {
  return {hd95, assd, status};
}

TEST(EvaluateSummary, KeepsTheLayoutReportAndSweepRead) {
  FinetuneRun run;
  run.directory = "/runs/ft";
  RunScores scores;
  CellResult first = hand_cell(0, 10, {{3, 1, 0}, {2, 0, 2}}, {0.5, 1.0}, {0.75, 1.0});
  first.surfaces.add(0, distances(engine::SurfaceStatus::kDefined, 1.5, 0.25));
  first.surfaces.add(0, distances(engine::SurfaceStatus::kTargetEmpty));
  first.surfaces.add(1, distances(engine::SurfaceStatus::kBothEmpty));
  first.surfaces.add(1, distances(engine::SurfaceStatus::kBothEmpty));
  CellResult second = hand_cell(1, 20, {{1, 0, 0}, {1, 0, 0}}, {1.0, 1.0}, {1.0});
  second.surfaces.add(0, distances(engine::SurfaceStatus::kDefined, 0.0, 0.0));
  second.surfaces.add(1, distances(engine::SurfaceStatus::kDefined, 2.0, 1.0));
  scores.cells = {first, second};

  const std::string expected =
      std::string("{\n") +
      "  \"finetune_run\": \"/runs/ft\",\n"
      "  \"initialisation\": \"random\",\n"
      "  \"arch\": \"unet\",\n"
      "  \"dice\": \"per lung class (1 = left, 2 = right), background excluded; pooled = "
      "TP/FP/FN summed over a fold's test images (the paper's number), per_image = mean of "
      "per-image Dice; both at the cached resolution\",\n"
      "  \"empty_mask_rule\": \"" +
      engine::kEmptyMaskRule +
      "\",\n"
      "  \"surface_unit\": \"px\",\n"
      "  \"surface\": \"HD95 and ASSD as MONAI computes them (per image and lung, on the cached "
      "square, in native pixels); a cell's value is the mean over its images with both masks "
      "non-empty, then over the two lungs\",\n"
      "  \"surface_empty_rule\": \"" +
      engine::kSurfaceEmptyRule +
      "\",\n"
      "  \"cells\": [\n"
      "    {\"fold\": 0, \"budget\": 10, \"seed\": 0, \"images\": 2, "
      "\"pooled\": {\"left\": 0.857143, \"right\": 0.666667, \"mean\": 0.761905}, "
      "\"per_image\": {\"left\": 0.500000, \"right\": 1.000000, \"mean\": 0.750000}, "
      "\"per_image_dice\": {\"median\": 0.875000, \"q25\": 0.812500, \"q75\": 0.937500, "
      "\"p5\": 0.762500}, "
      "\"hd95\": {\"left\": 1.500000, \"right\": null, \"mean\": 1.500000}, "
      "\"assd\": {\"left\": 0.250000, \"right\": null, \"mean\": 0.250000}, "
      "\"surface_images\": {"
      "\"left\": {\"defined\": 1, \"both_empty\": 0, \"prediction_empty\": 0, "
      "\"target_empty\": 1}, "
      "\"right\": {\"defined\": 0, \"both_empty\": 2, \"prediction_empty\": 0, "
      "\"target_empty\": 0}}},\n"
      "    {\"fold\": 1, \"budget\": 20, \"seed\": 0, \"images\": 1, "
      "\"pooled\": {\"left\": 1.000000, \"right\": 1.000000, \"mean\": 1.000000}, "
      "\"per_image\": {\"left\": 1.000000, \"right\": 1.000000, \"mean\": 1.000000}, "
      "\"per_image_dice\": {\"median\": 1.000000, \"q25\": 1.000000, \"q75\": 1.000000, "
      "\"p5\": 1.000000}, "
      "\"hd95\": {\"left\": 0.000000, \"right\": 2.000000, \"mean\": 1.000000}, "
      "\"assd\": {\"left\": 0.000000, \"right\": 1.000000, \"mean\": 0.500000}, "
      "\"surface_images\": {"
      "\"left\": {\"defined\": 1, \"both_empty\": 0, \"prediction_empty\": 0, "
      "\"target_empty\": 0}, "
      "\"right\": {\"defined\": 1, \"both_empty\": 0, \"prediction_empty\": 0, "
      "\"target_empty\": 0}}}\n"
      "  ],\n"
      "  \"by_budget\": {"
      "\"10\": {\"mean\": 0.761905, \"std\": 0.000000, \"cells\": 1, \"folds\": 5, "
      "\"seeds\": 1}, "
      "\"20\": {\"mean\": 1.000000, \"std\": 0.000000, \"cells\": 1, \"folds\": 5, "
      "\"seeds\": 1}}\n"
      "}\n";
  EXPECT_EQ(evaluation_summary(run, scores), expected);

  scores.in_mm = true;
  const std::string in_mm = evaluation_summary(run, scores);
  EXPECT_NE(in_mm.find("\"surface_unit\": \"mm\""), std::string::npos);
  EXPECT_NE(in_mm.find("in mm from each image's pixel spacing); "), std::string::npos);
}

TEST(EvaluateSummary, SegmentationSummaryNamesTheModelAndTheMasks) {
  EXPECT_EQ(segmentation_summary("/m/model \"a\".safetensors", 3),
            "{\n"
            "  \"checkpoint\": \"/m/model \\\"a\\\".safetensors\",\n"
            "  \"images\": 3,\n"
            "  \"masks\": \"segmentations/\"\n"
            "}\n");
}

}  // namespace
}  // namespace cltci::run
