#include "cltci/engine/fold_summary.h"

#include <gtest/gtest.h>

#include <string>

namespace cltci::engine {
namespace {

TEST(FoldSummary, MeanStdPerBudgetAndTable) {
  const auto stats = mean_std({0.9, 0.8, 1.0});
  EXPECT_DOUBLE_EQ(stats.mean, 0.9);
  EXPECT_NEAR(stats.std, 0.1, 1e-12);  // sample std: sqrt((0.01 + 0.01) / 2)

  CellScore a;
  a.fold = 0;
  a.budget = 10;
  a.pooled = {{8, 1, 1}, {9, 0, 2}};  // Dice 16/18 and 18/20
  CellScore b = a;
  b.fold = 1;
  b.pooled = {{10, 0, 0}, {10, 0, 0}};
  CellScore c = a;
  c.budget = 20;
  EXPECT_NEAR(a.pooled_dice(), (16.0 / 18.0 + 0.9) / 2.0, 1e-12);
  const auto summary = summarise_by_budget({a, b, c});
  ASSERT_EQ(summary.size(), 2U);
  EXPECT_NEAR(summary.at(10).mean, (a.pooled_dice() + 1.0) / 2.0, 1e-12);
  EXPECT_EQ(summary.at(10).n, 2);
  EXPECT_EQ(summary.at(20).std, 0.0);

  const std::string table =
      format_table({{"random", summary}, {"cltci_moco", {{20, {0.931, 0.008, 5}}}}});
  EXPECT_EQ(table,
            "initialisation  M=10         M=20       \n"
            "random          94.7(7.5)    89.4(0.0)  \n"
            "cltci_moco      -            93.1(0.8)  \n");
}

}  // namespace
}  // namespace cltci::engine
