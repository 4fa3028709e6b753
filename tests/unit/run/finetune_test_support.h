// The small phantom fine-tuning config the run-layer tests share: 12 patients at 32 px, a 4-channel
// U-Net of depth 2, 3 folds, 2 epochs; a few seconds per cell on 2 cores.
#pragma once

#include "cltci/config/finetune_config.h"
#include "common_test_support.h"

#include <string>
#include <vector>

namespace cltci::run::testing_support {

inline config::FinetuneConfig small_finetune_config(const cltci::testing::TempDir& dir,
                                                    const std::string& budgets,
                                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides{"run.output_dir=" + dir.path().string(),
                                     "run.name=ft",
                                     "run.threads=1",
                                     "run.log_every=100",
                                     "data.cache_dir=" + (dir / "cache").string(),
                                     "data.image_size=32",
                                     "data.source.patients=12",
                                     "data.source.images_per_patient=[1, 3]",
                                     "data.workers=1",
                                     "model.base_channels=4",
                                     "model.depth=2",
                                     "optim.epochs=2",
                                     "optim.batch_size=4",
                                     "optim.lr=0.003",
                                     "folds.k=3",
                                     "budgets=" + budgets};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return config::load_finetune_config({}, overrides);
}

}  // namespace cltci::run::testing_support
