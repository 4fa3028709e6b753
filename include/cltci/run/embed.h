// `evaluate --embed --pretrain-run DIR`: what a pre-trained encoder makes of its own training
// images, without augmentation: embeddings.csv (one row per image: path, patient, acquisition
// order, the pooled feature vector), the probe figures of analysis/probes.h and a t-SNE map
// coloured by patient (the paper's Fig. 3) as tsne.png.
#pragma once

#include "cltci/config/evaluate_config.h"
#include "cltci/run/run_context.h"

namespace cltci::run {

/// Runs the embedding of config.pretrain_run; returns the process exit code. A directory that
/// is not a finished pre-training run is a common::InputError naming it.
int embed_pretrain_run(const config::EvaluateConfig& config, const RunOptions& options);

}  // namespace cltci::run
