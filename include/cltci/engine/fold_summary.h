// Cross-validation bookkeeping: Dice of each (fold, M, seed) cell, aggregated per M as mean and
// standard deviation over folds x seeds, and the paper's table (rows = initialisation, columns = M,
// cells mean(std)).
#pragma once

#include "cltci/engine/dice.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cltci::engine {

/// One fine-tuned model scored on its held-out fold.
struct CellScore {
  std::int64_t fold = 0;
  std::int64_t budget = 0;             ///< M
  std::int64_t seed = 0;               ///< fine-tuning replicate
  std::vector<ClassCounts> pooled;     ///< per lung class, summed over the fold
  std::vector<double> per_image_mean;  ///< per lung class, mean of per-image Dice
  std::int64_t images = 0;

  /// The paper's number: pooled Dice averaged over the lung classes.
  double pooled_dice() const;
  double per_image_dice() const;
};

struct MeanStd {
  double mean = 0.0;
  double std = 0.0;  ///< sample standard deviation (n - 1); 0 for a single fold
  std::int64_t n = 0;
};

MeanStd mean_std(const std::vector<double>& values);

/// Per M: mean(std) over the cells (folds x seeds) of the pooled Dice.
std::map<std::int64_t, MeanStd> summarise_by_budget(const std::vector<CellScore>& cells);

/// The paper's table as text. `rows` maps an initialisation name to its per-M summary; scores
/// print as percentages with one decimal, e.g. "93.1(0.8)".
std::string format_table(
    const std::vector<std::pair<std::string, std::map<std::int64_t, MeanStd>>>& rows);

}  // namespace cltci::engine
