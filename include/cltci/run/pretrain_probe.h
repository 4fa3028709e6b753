// The representation probes of a pre-training run: every run.probe_every epochs (and after the
// last) the fixed probe set is embedded, un-augmented, by the encoder + pooling and by the
// projection head, and analysis/probes.h scores it; every epoch the collapse detector compares
// the mean loss with the method's collapse value. The figures go to metrics.csv (extra columns
// of each epoch's last row), the log and summary.json.
#pragma once

#include "cltci/analysis/probes.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/ssl/method.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cltci::run {

struct ProbeFigures {
  std::int64_t epoch = 0;  ///< 1-based epoch after which the probe ran
  analysis::EmbeddingProbe encoder;
  std::optional<analysis::EmbeddingProbe> head;  ///< methods with a projection head
  double seconds = 0.0;
};

class PretrainProbe {
 public:
  PretrainProbe(const data::CachedDataset& dataset,
                const config::ProbeConfig& config,
                std::int64_t epochs,
                std::uint64_t seed,
                c10::Device device);

  /// metrics.csv columns, in the order end_epoch() returns their values.
  static std::vector<std::string> columns();
  /// After epoch `epoch` (0-based): collapse check, and the probe when it is due. Leaves the
  /// method in eval mode after a probe (the trainer switches back).
  std::vector<double> end_epoch(ssl::Method& method, std::int64_t epoch, double mean_loss);
  /// Embeds and scores the probe set now.
  ProbeFigures run(ssl::Method& method, std::int64_t epoch) const;

  const std::optional<ProbeFigures>& last() const { return last_; }
  /// The collapse warnings logged so far.
  const std::vector<std::string>& warnings() const { return warnings_; }
  std::int64_t probe_images() const { return static_cast<std::int64_t>(indices_.size()); }

 private:
  const data::CachedDataset& dataset_;
  config::ProbeConfig config_;
  std::int64_t epochs_;
  c10::Device device_;
  std::vector<std::int64_t> indices_;
  analysis::CollapseDetector detector_;
  std::optional<ProbeFigures> last_;
  std::vector<std::string> warnings_;
};

/// One line for the log: "encoder top-1 0.62 (chance 0.05), mAP ... | head ...".
std::string describe_probe(const ProbeFigures& figures);

}  // namespace cltci::run
