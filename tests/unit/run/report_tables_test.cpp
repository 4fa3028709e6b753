#include "cltci/run/report_tables.h"

#include "cltci/analysis/line_plot.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/run/report.h"
#include "common_test_support.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace {

namespace fs = std::filesystem;

/// One (fold, M) cell of a hand-made evaluation: pooled Dice and, optionally, the mean over the
/// lungs of HD95 and ASSD (nullopt: evaluate wrote null).
struct SummaryCell {
  std::int64_t fold, budget;
  double dice;
  std::optional<double> hd95, assd;
};

std::string number_or_null(const std::optional<double>& value) {
  if (!value) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", *value);
  return buffer;
}

/// An evaluate summary.json as `evaluate` writes it (the keys report reads). `surface`: the cells
/// carry hd95 / assd (newer summaries); by_budget is mean(std) of the cells' Dice, as evaluate's.
fs::path write_summary(const testing::TempDir& dir,
                       const std::string& file,
                       const std::string& name,
                       const std::string& arch,
                       const std::vector<SummaryCell>& cells,
                       bool surface,
                       const std::string& unit = "px") {
  std::string json = "{\"initialisation\": \"" + name + "\", \"arch\": \"" + arch + "\"";
  if (surface) json += ", \"surface_unit\": \"" + unit + "\"";
  json += ", \"cells\": [";
  std::map<std::int64_t, std::vector<double>> dice;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const SummaryCell& c = cells[i];
    char buffer[200];
    std::snprintf(buffer, sizeof buffer,
                  "%s{\"fold\": %lld, \"budget\": %lld, \"seed\": 0, \"images\": 5, "
                  "\"pooled\": {\"left\": %.6f, \"right\": %.6f, \"mean\": %.6f}",
                  i ? ", " : "", static_cast<long long>(c.fold), static_cast<long long>(c.budget),
                  c.dice, c.dice, c.dice);
    json += buffer;
    if (surface) {
      json += ", \"hd95\": {\"left\": null, \"right\": null, \"mean\": " + number_or_null(c.hd95) +
              "}, \"assd\": {\"left\": null, \"right\": null, " +
              "\"mean\": " + number_or_null(c.assd) + "}";
    }
    json += "}";
    dice[c.budget].push_back(c.dice);
  }
  json += "], \"by_budget\": {";
  bool first = true;
  for (const auto& [budget, values] : dice) {
    const engine::MeanStd stats = engine::mean_std(values);
    char buffer[160];
    std::snprintf(buffer, sizeof buffer,
                  "%s\"%lld\": {\"mean\": %.9f, \"std\": %.9f, \"cells\": %lld}", first ? "" : ", ",
                  static_cast<long long>(budget), stats.mean, stats.std,
                  static_cast<long long>(stats.n));
    json += buffer;
    first = false;
  }
  json += "}}\n";
  const auto path = dir / (file + ".json");
  common::write_file_atomic(path, std::string_view(json));
  return path;
}

/// Two backbones x two initialisations x M = 10, 20 x two folds. Ties: unet M=20 Dice (89.0 both)
/// and HD95 (6.00 both). deeplabv3plus/cltci_moco is an older summary without surface distances.
std::vector<fs::path> hand_made(const testing::TempDir& dir) {
  return {
      write_summary(dir, "unet_random", "random", "unet",
                    {{0, 10, 0.80, 10.0, 2.0},
                     {1, 10, 0.82, 12.0, 3.0},
                     {0, 20, 0.88, 6.0, 1.0},
                     {1, 20, 0.90, std::nullopt, 1.0}},
                    true),
      write_summary(dir, "unet_cltci", "cltci_moco", "unet",
                    {{0, 10, 0.84, 8.0, 1.5},
                     {1, 10, 0.86, 9.0, 2.5},
                     {0, 20, 0.89, 5.0, 1.2},
                     {1, 20, 0.89, 7.0, 1.4}},
                    true),
      write_summary(dir, "dl_random", "random", "deeplabv3plus",
                    {{0, 10, 0.70, std::nullopt, std::nullopt},
                     {1, 10, 0.74, std::nullopt, std::nullopt},
                     {0, 20, 0.85, 7.0, 1.5},
                     {1, 20, 0.87, 9.0, 2.5}},
                    true),
      write_summary(dir, "dl_cltci", "cltci_moco", "deeplabv3plus",
                    {{0, 10, 0.75, std::nullopt, std::nullopt},
                     {1, 10, 0.77, std::nullopt, std::nullopt},
                     {0, 20, 0.83, std::nullopt, std::nullopt},
                     {1, 20, 0.85, std::nullopt, std::nullopt}},
                    false),
  };
}

Report hand_made_report(const testing::TempDir& dir) {
  ReportOptions options;
  options.evaluations = hand_made(dir);
  return make_report(options);
}

TEST(ReportTables, DiceMarkdownGroupsByBackboneAndBoldsEveryTiedBest) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  ASSERT_EQ(report.tables.size(), 3U);
  EXPECT_TRUE(report.tables_note.empty());
  EXPECT_EQ(to_markdown(report.tables[0]),
            "**Dice (%)**: pooled over each test fold, mean(std) over folds \u00d7 seeds; highest "
            "is best, the best of each column within a backbone in bold.\n"
            "\n"
            "| Backbone | Initialisation | M=10 | M=20 |\n"
            "|:---|:---|---:|---:|\n"
            "| unet | random | 81.0(1.4) | **89.0(1.4)** |\n"
            "| unet | cltci_moco | **85.0(1.4)** | **89.0(0.0)** |\n"
            "| deeplabv3plus | random | 72.0(2.8) | **86.0(1.4)** |\n"
            "| deeplabv3plus | cltci_moco | **76.0(1.4)** | 84.0(1.4) |\n");
}

TEST(ReportTables, DiceCsvIsOneLinePerCell) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  EXPECT_EQ(to_csv(report.tables[0]),
            "backbone,initialisation,M,mean,std,unit,cells,best\n"
            "unet,random,10,81.0000,1.4142,%,2,0\n"
            "unet,random,20,89.0000,1.4142,%,2,1\n"
            "unet,cltci_moco,10,85.0000,1.4142,%,2,1\n"
            "unet,cltci_moco,20,89.0000,0.0000,%,2,1\n"
            "deeplabv3plus,random,10,72.0000,2.8284,%,2,0\n"
            "deeplabv3plus,random,20,86.0000,1.4142,%,2,1\n"
            "deeplabv3plus,cltci_moco,10,76.0000,1.4142,%,2,1\n"
            "deeplabv3plus,cltci_moco,20,84.0000,1.4142,%,2,0\n");
}

TEST(ReportTables, DiceLatexIsBooktabsWithBackboneGroupRows) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  EXPECT_EQ(to_latex(report.tables[0]),
            "% cltci report: Dice (%); needs \\usepackage{booktabs}\n"
            "\\begin{table}[t]\n"
            "\\centering\n"
            "\\caption{Dice (\\%): pooled over each test fold, mean(std) over folds $\\times$ "
            "seeds; highest is best, the best of each column within a backbone in bold.}\n"
            "\\label{tab:dice}\n"
            "\\begin{tabular}{lcc}\n"
            "\\toprule\n"
            "Initialisation & $M=10$ & $M=20$ \\\\\n"
            "\\midrule\n"
            "\\multicolumn{3}{l}{\\textit{unet}} \\\\\n"
            "random & 81.0(1.4) & \\textbf{89.0(1.4)} \\\\\n"
            "cltci\\_moco & \\textbf{85.0(1.4)} & \\textbf{89.0(0.0)} \\\\\n"
            "\\midrule\n"
            "\\multicolumn{3}{l}{\\textit{deeplabv3plus}} \\\\\n"
            "random & 72.0(2.8) & \\textbf{86.0(1.4)} \\\\\n"
            "cltci\\_moco & \\textbf{76.0(1.4)} & 84.0(1.4) \\\\\n"
            "\\bottomrule\n"
            "\\end{tabular}\n"
            "\\end{table}\n");
}

TEST(ReportTables, SurfaceDistancesBoldTheLowestAndDashWhatIsMissing) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  const MetricTable& hd95 = report.tables[1];
  EXPECT_EQ(hd95.stem, "hd95");
  // deeplabv3plus M=10: all null -> "–"; its M=20 has one value only -> nothing to rank.
  EXPECT_EQ(to_markdown(hd95),
            "**HD95 (px)**: 95th-percentile Hausdorff distance, mean(std) over folds \u00d7 seeds "
            "of each cell's mean over the two lungs (cells without a value left out); lowest is "
            "best, the best of each column within a backbone in bold.\n"
            "\n"
            "| Backbone | Initialisation | M=10 | M=20 |\n"
            "|:---|:---|---:|---:|\n"
            "| unet | random | 11.00(1.41) | **6.00(0.00)** |\n"
            "| unet | cltci_moco | **8.50(0.71)** | **6.00(1.41)** |\n"
            "| deeplabv3plus | random | \u2013 | 8.00(1.41) |\n"
            "| deeplabv3plus | cltci_moco | \u2013 | \u2013 |\n");
  EXPECT_EQ(to_csv(hd95),
            "backbone,initialisation,M,mean,std,unit,cells,best\n"
            "unet,random,10,11.0000,1.4142,px,2,0\n"
            "unet,random,20,6.0000,0.0000,px,1,1\n"
            "unet,cltci_moco,10,8.5000,0.7071,px,2,1\n"
            "unet,cltci_moco,20,6.0000,1.4142,px,2,1\n"
            "deeplabv3plus,random,10,,,px,0,0\n"
            "deeplabv3plus,random,20,8.0000,1.4142,px,2,0\n"
            "deeplabv3plus,cltci_moco,10,,,px,0,0\n"
            "deeplabv3plus,cltci_moco,20,,,px,0,0\n");
  const std::string latex = to_latex(hd95);
  EXPECT_NE(latex.find("\\caption{HD95 (px): 95th-percentile"), std::string::npos) << latex;
  EXPECT_NE(latex.find("random & -- & 8.00(1.41) \\\\\n"), std::string::npos) << latex;
  EXPECT_NE(latex.find("cltci\\_moco & \\textbf{8.50(0.71)} & \\textbf{6.00(1.41)} \\\\\n"),
            std::string::npos)
      << latex;

  const MetricTable& assd = report.tables[2];
  EXPECT_EQ(assd.stem, "assd");
  const std::string md = to_markdown(assd);
  // Lowest wins: 2.00 < 2.50 at M=10, 1.00 < 1.30 at M=20.
  EXPECT_NE(md.find("| unet | random | 2.50(0.71) | **1.00(0.00)** |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| unet | cltci_moco | **2.00(0.71)** | 1.30(0.14) |\n"), std::string::npos)
      << md;
  EXPECT_NE(md.find("**ASSD (px)**: average symmetric surface distance"), std::string::npos);
}

TEST(ReportTables, TextTableAndPairsStayWithinABackbone) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  // A name that is the row of two backbones carries its backbone in the text table.
  EXPECT_NE(report.table.find("cltci_moco [deeplabv3plus]  76.0(1.4)    84.0(1.4)"),
            std::string::npos)
      << report.table;
  const YAML::Node json = YAML::Load(report.json);
  ASSERT_EQ(json["comparisons"].size(), 4U);  // (cltci_moco - random) per backbone and M
  EXPECT_EQ(json["comparisons"][0]["a"].as<std::string>(), "cltci_moco [unet]");
  EXPECT_EQ(json["comparisons"][0]["b"].as<std::string>(), "random [unet]");
  EXPECT_NEAR(json["comparisons"][0]["mean_difference"].as<double>(), 0.04, 1e-9);
  EXPECT_EQ(json["comparisons"][2]["a"].as<std::string>(), "cltci_moco [deeplabv3plus]");
  EXPECT_EQ(json["rows"][2]["arch"].as<std::string>(), "deeplabv3plus");

  ReportOptions options;
  options.evaluations = hand_made(dir);
  options.comparisons = {{"random", "cltci_moco"}};
  EXPECT_EQ(YAML::Load(make_report(options).json)["comparisons"].size(), 4U);
}

TEST(ReportTables, WritesEveryFormatAndTheDiceVsMPlot) {
  testing::TempDir dir;
  const Report report = hand_made_report(dir);
  const fs::path out = dir / "tables";
  const auto written = write_tables(report.tables, out);
  EXPECT_EQ(written.size(), 10U);
  for (const auto& name : table_file_names()) EXPECT_TRUE(fs::exists(out / name)) << name;
  EXPECT_EQ(common::read_file(out / "hd95.md"), to_markdown(report.tables[1]));
  EXPECT_EQ(common::read_file(out / "dice.tex"), to_latex(report.tables[0]));
  EXPECT_EQ(common::read_file(out / "assd.csv"), to_csv(report.tables[2]));

  const cv::Mat plot = cv::imread((out / "dice_vs_m.png").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(plot.empty());
  EXPECT_EQ(plot.cols, 900);
  EXPECT_EQ(plot.rows, 600);
  for (std::size_t line = 0; line < 4; ++line) {  // one per (backbone, initialisation)
    const cv::Scalar colour = analysis::series_colour(line);
    cv::Mat mask;
    cv::inRange(plot, colour, colour, mask);
    EXPECT_GT(cv::countNonZero(mask), 100) << "line " << line;
  }
}

TEST(ReportTables, NoSurfaceDistancesMeansDiceFilesOnlyAndANote) {
  testing::TempDir dir;
  ReportOptions options;
  options.evaluations = {write_summary(dir, "a", "random", "unet",
                                       {{0, 10, 0.8, std::nullopt, std::nullopt},
                                        {1, 10, 0.9, std::nullopt, std::nullopt}},
                                       false),
                         write_summary(dir, "b", "cltci", "unet",
                                       {{0, 10, 0.85, std::nullopt, std::nullopt},
                                        {1, 10, 0.95, std::nullopt, std::nullopt}},
                                       false)};
  const Report report = make_report(options);
  ASSERT_EQ(report.tables.size(), 1U);
  EXPECT_EQ(report.tables_note,
            "no HD95/ASSD in these evaluations (their summaries have no surface distances): "
            "Dice tables only");
  const fs::path out = dir / "tables";
  write_tables(report.tables, out);
  for (const char* name : {"dice.md", "dice.csv", "dice.tex", "dice_vs_m.png"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name;
  }
  for (const char* name : {"hd95.md", "hd95.csv", "hd95.tex", "assd.md"}) {
    EXPECT_FALSE(fs::exists(out / name)) << name;
  }
  // One backbone: the plot's legend names the initialisation alone; single column, one bold.
  EXPECT_NE(to_markdown(report.tables[0]).find("| unet | cltci | **90.0(7.1)** |"),
            std::string::npos);
}

TEST(ReportTables, MixedSurfaceUnitsAreAnInputError) {
  testing::TempDir dir;
  ReportOptions options;
  options.evaluations = {
      write_summary(dir, "a", "random", "unet", {{0, 10, 0.8, 3.0, 1.0}}, true, "px"),
      write_summary(dir, "b", "cltci", "unet", {{0, 10, 0.9, 2.0, 1.0}}, true, "mm")};
  try {
    make_report(options);
    FAIL() << "px and mm in one table";
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("b.json: surface_unit 'mm' differs from 'px'"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace cltci::run
