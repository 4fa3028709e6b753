#include "cltci/run/report.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "common_test_support.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace {

struct HandCell {
  std::int64_t fold, budget, seed;
  double dice;
};

/// An evaluate summary.json as `evaluate` writes it (only the keys report reads).
std::filesystem::path write_summary(const testing::TempDir& dir,
                                    const std::string& name,
                                    const std::vector<HandCell>& cells,
                                    double mean,
                                    double std) {
  std::string json = "{\"initialisation\": \"" + name + "\", \"cells\": [";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char buffer[160];
    std::snprintf(
        buffer, sizeof buffer,
        "%s{\"fold\": %lld, \"budget\": %lld, \"seed\": %lld, \"pooled\": {\"mean\": %.6f}}",
        i ? ", " : "", static_cast<long long>(cells[i].fold),
        static_cast<long long>(cells[i].budget), static_cast<long long>(cells[i].seed),
        cells[i].dice);
    json += buffer;
  }
  char by_budget[160];
  std::snprintf(by_budget, sizeof by_budget,
                "], \"by_budget\": {\"10\": {\"mean\": %.6f, \"std\": %.6f, \"cells\": %zu}}}\n",
                mean, std, cells.size());
  json += by_budget;
  const auto file = dir / (name + ".json");
  common::write_file_atomic(file, std::string_view(json));
  return file;
}

TEST(Report, TableAndPairedTestsFromHandMadeSummaries) {
  testing::TempDir dir;
  // Two folds x two seeds; differences a - b = +0.02, -0.01, +0.05, +0.04 (no ties, no zero).
  const auto a = write_summary(dir, "cltci",
                               {{0, 10, 0, 0.90},
                                {0, 10, 1, 0.85},
                                {1, 10, 0, 0.80},
                                {1, 10, 1, 0.95},
                                {2, 10, 0, 0.70}},  // unmatched: fold 2 has no partner in b
                               0.875, 0.0646);
  const auto b = write_summary(
      dir, "random", {{0, 10, 0, 0.88}, {0, 10, 1, 0.86}, {1, 10, 0, 0.75}, {1, 10, 1, 0.91}}, 0.85,
      0.0668);
  ReportOptions options;
  options.evaluations = {b, a};  // default: every row against the first
  const Report report = make_report(options);
  EXPECT_EQ(report.table,
            "initialisation  M=10       \n"
            "random          85.0(6.7)  \n"
            "cltci           87.5(6.5)  \n");
  const YAML::Node json = YAML::Load(report.json);
  ASSERT_EQ(json["comparisons"].size(), 1U);
  const YAML::Node c = json["comparisons"][0];
  EXPECT_EQ(c["a"].as<std::string>(), "cltci");
  EXPECT_EQ(c["b"].as<std::string>(), "random");
  EXPECT_EQ(c["cells"].as<int>(), 4);
  EXPECT_NEAR(c["mean_difference"].as<double>(), 0.025, 1e-9);
  // |d| ranks 2, 1, 4, 3: W+ = 9, W- = 1; exact two-sided p = 2 * P(W+ <= 1) = 2 * 2/16.
  EXPECT_DOUBLE_EQ(c["wilcoxon"].as<double>(), 1.0);
  EXPECT_NEAR(c["wilcoxon_p"].as<double>(), 0.25, 1e-12);
  EXPECT_EQ(c["wilcoxon_method"].as<std::string>(), "exact");
  // t = mean / (sd / sqrt(n)), sd^2 = 0.0021 / 3.
  const double t = 0.025 / (std::sqrt(0.0021 / 3.0) / 2.0);
  EXPECT_NEAR(c["t"].as<double>(), t, 1e-6);
  const double half_width = 3.182446305284263 * std::sqrt(0.0021 / 3.0) / 2.0;  // t_0.975(3)
  EXPECT_NEAR(c["ci95"][0].as<double>(), 0.025 - half_width, 1e-6);
  EXPECT_NEAR(c["ci95"][1].as<double>(), 0.025 + half_width, 1e-6);
  EXPECT_NE(report.comparisons.find("M=10   cltci - random: +2.50 [95% CI"), std::string::npos)
      << report.comparisons;
  EXPECT_NE(report.comparisons.find("over 4 cells"), std::string::npos);

  options.comparisons = {{"random", "cltci"}};
  const YAML::Node reversed = YAML::Load(make_report(options).json);
  EXPECT_NEAR(reversed["comparisons"][0]["mean_difference"].as<double>(), -0.025, 1e-9);
}

TEST(Report, JsonKeepsItsLayoutAndWritesUndefinedStatisticsAsNull) {
  testing::TempDir dir;
  // One matched cell: the difference is known, the t interval and statistic are not.
  const auto a = write_summary(dir, "cltci", {{0, 10, 0, 0.875}}, 0.875, 0.0);
  const auto b = write_summary(dir, "random", {{0, 10, 0, 0.75}}, 0.75, 0.0);
  ReportOptions options;
  options.evaluations = {b, a};
  const Report report = make_report(options);
  const auto row = [](const std::string& name, const std::filesystem::path& file,
                      const std::string& mean) {
    return "    {\"initialisation\": \"" + name + "\", \"arch\": \"\", \"summary\": \"" +
           file.string() + "\", \"by_budget\": {\"10\": {\"mean\": " + mean +
           ", \"std\": 0, \"cells\": 1}}}";
  };
  EXPECT_EQ(report.json,
            "{\n"
            "  \"dice\": \"pooled over each test fold, mean(std) over folds x seeds\",\n"
            "  \"rows\": [\n" +
                row("random", b, "0.75") + ",\n" + row("cltci", a, "0.875") +
                "\n"
                "  ],\n"
                "  \"comparisons\": [\n"
                "    {\"a\": \"cltci\", \"b\": \"random\", \"budget\": 10, \"cells\": 1, "
                "\"mean_difference\": 0.125, \"ci95\": [null, null], \"t\": null, \"t_p\": null, "
                "\"wilcoxon\": 0, \"wilcoxon_p\": 1, \"wilcoxon_method\": \"exact\"}\n"
                "  ]\n"
                "}\n");
  // JSON is YAML: null reads back as null, not as the string "nan".
  const YAML::Node json = YAML::Load(report.json);
  EXPECT_TRUE(json["comparisons"][0]["t"].IsNull());
  EXPECT_TRUE(json["comparisons"][0]["ci95"][0].IsNull());
}

TEST(Report, BadInputsAreInputErrorsNamingTheProblem) {
  testing::TempDir dir;
  const auto a = write_summary(dir, "random", {{0, 10, 0, 0.9}}, 0.9, 0.0);
  ReportOptions options;
  options.evaluations = {a, a};
  EXPECT_THROW(make_report(options), common::InputError);  // one row twice
  options.evaluations = {a};
  options.comparisons = {{"random", "nope"}};
  try {
    make_report(options);
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("--compare: 'nope'"), std::string::npos);
  }
  options.comparisons.clear();
  options.evaluations = {dir / "missing"};
  EXPECT_THROW(make_report(options), common::InputError);
}

}  // namespace
}  // namespace cltci::run
