// The small phantom pre-training config the run-layer tests share.
#pragma once

#include "cltci/config/pretrain_config.h"
#include "common_test_support.h"

#include <string>

namespace cltci::run::testing_support {

/// A pre-training run small enough for CI: 12 phantom patients (2 to 4 images each) at 32^2, a
/// U-Net of base 4 and depth 2, 16-d embeddings.
inline config::PretrainConfig tiny_config(const cltci::testing::TempDir& dir,
                                          const std::string& method) {
  config::PretrainConfig c;
  c.run.name = method;
  c.run.output_dir = (dir / "runs").string();
  c.run.threads = 2;
  c.run.checkpoint_every = 1;
  c.run.log_every = 1;
  c.data.source.type = "phantom";
  c.data.source.patients = 12;
  c.data.source.images_per_patient = {2, 4};
  c.data.source.native_size = {80, 72};
  c.data.image_size = 32;
  c.data.cache_dir = (dir / "cache").string();
  c.data.workers = 1;
  c.model.base_channels = 4;
  c.model.depth = 2;
  c.method.name = method;
  c.method.embedding_dim = 16;
  c.method.queue_size = 20;
  c.method.momentum = 0.9;
  c.method.pirl_negatives = 8;
  c.optim.lr = 0.05;
  c.optim.warmup_epochs = 0;
  c.optim.epochs = 2;
  c.optim.batch_size = 8;
  return c;
}

}  // namespace cltci::run::testing_support
