#include "cltci/run/pretrain_probe.h"

#include "cltci/run/embedding.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace cltci::run {
namespace {

constexpr double kNotProbed = std::numeric_limits<double>::quiet_NaN();

analysis::CollapseOptions collapse_options(const config::ProbeConfig& config) {
  analysis::CollapseOptions options;
  options.patience = config.collapse_patience;
  options.min_effective_rank = config.collapse_min_rank;
  return options;
}

std::string describe_one(const analysis::EmbeddingProbe& p) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "top-1 %.3f (chance %.3f), mAP %.3f (chance %.3f), cos same %+.3f / other "
                "%+.3f, align %.3f, unif %.3f, eff. rank %.1f",
                p.retrieval.top1, p.retrieval.top1_chance, p.retrieval.map, p.retrieval.map_chance,
                p.positive_cosine, p.negative_cosine, p.alignment, p.uniformity, p.effective_rank);
  return buffer;
}

}  // namespace

PretrainProbe::PretrainProbe(const data::CachedDataset& dataset,
                             const config::ProbeConfig& config,
                             std::int64_t epochs,
                             std::uint64_t seed,
                             c10::Device device)
    : dataset_(dataset),
      config_(config),
      epochs_(epochs),
      device_(device),
      indices_(probe_set(dataset, config.images, seed)),
      detector_(collapse_options(config)) {}

std::vector<std::string> PretrainProbe::columns() {
  return {"collapse_loss",    "probe_top1",    "probe_top1_chance", "probe_map",
          "probe_map_chance", "probe_pos_cos", "probe_neg_cos",     "probe_align",
          "probe_uniform",    "probe_rank",    "head_top1",         "head_map",
          "head_rank"};
}

ProbeFigures PretrainProbe::run(ssl::Method& method, std::int64_t epoch) const {
  const auto started = std::chrono::steady_clock::now();
  method.train(false);
  models::Encoder& encoder = *method.encoder();
  const auto project = [&method](const at::Tensor& pooled) { return method.project(pooled); };
  const Embeddings embeddings = embed_images(encoder, project, dataset_, indices_, device_);
  ProbeFigures figures;
  figures.epoch = epoch;
  figures.encoder = analysis::probe_embeddings(embeddings.pooled, embeddings.patients);
  if (embeddings.projected.defined()) {
    figures.head = analysis::probe_embeddings(embeddings.projected, embeddings.patients);
  }
  figures.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return figures;
}

std::vector<double> PretrainProbe::end_epoch(ssl::Method& method,
                                             std::int64_t epoch,
                                             double mean_loss) {
  std::vector<double> values(columns().size(), kNotProbed);
  const double collapse = method.collapse_loss();
  if (collapse > 0.0) values[0] = collapse;
  if (auto warning = detector_.observe_loss(mean_loss, collapse)) {
    spdlog::warn("[probe] {}", *warning);
    warnings_.push_back(*warning);
  }
  const bool last_epoch = epoch + 1 == epochs_;
  const bool due = config_.every > 0 && (epoch + 1) % config_.every == 0;
  if (!last_epoch && !due) return values;

  const ProbeFigures figures = run(method, epoch + 1);
  spdlog::info("[probe] epoch {}/{} ({} images, {:.2f} s): {}", epoch + 1, epochs_, indices_.size(),
               figures.seconds, describe_probe(figures));
  if (auto warning = detector_.observe_rank(figures.encoder.effective_rank)) {
    spdlog::warn("[probe] {}", *warning);
    warnings_.push_back(*warning);
  }
  const auto& e = figures.encoder;
  values[1] = e.retrieval.top1;
  values[2] = e.retrieval.top1_chance;
  values[3] = e.retrieval.map;
  values[4] = e.retrieval.map_chance;
  values[5] = e.positive_cosine;
  values[6] = e.negative_cosine;
  values[7] = e.alignment;
  values[8] = e.uniformity;
  values[9] = e.effective_rank;
  if (figures.head) {
    values[10] = figures.head->retrieval.top1;
    values[11] = figures.head->retrieval.map;
    values[12] = figures.head->effective_rank;
  }
  last_ = figures;
  return values;
}

std::string describe_probe(const ProbeFigures& figures) {
  std::string line = "encoder " + describe_one(figures.encoder);
  if (figures.head) line += " | head " + describe_one(*figures.head);
  return line;
}

}  // namespace cltci::run
