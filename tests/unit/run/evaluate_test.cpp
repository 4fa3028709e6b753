// evaluate's surface metrics and Dice distributions (issue #10): results.csv rows and
// summary.json cells agree with each other, and a known pixel spacing turns native pixels into
// millimetres.
#include "cltci/run/evaluate.h"

#include "cltci/analysis/percentile.h"
#include "cltci/config/evaluate_config.h"
#include "cltci/config/finetune_config.h"
#include "cltci/data/csv.h"
#include "cltci/data/manifest.h"
#include "cltci/data/phantom_export.h"
#include "cltci/run/finetune.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
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
  testing::TempDir dir;
  data::PhantomOptions phantom;
  phantom.version = 1;
  phantom.patients = 12;
  phantom.min_images = 1;
  phantom.max_images = 3;
  const fs::path manifest =
      data::export_phantom(dir / "data", phantom, data::PhantomFormat::kPng).manifest;
  const auto finetune_config = config::load_finetune_config(
      {}, {"run.output_dir=" + dir.path().string(), "run.name=ft", "run.threads=2",
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

}  // namespace
}  // namespace cltci::run
