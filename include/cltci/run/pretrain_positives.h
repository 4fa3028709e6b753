// What the positive rule of a CL-TCI pre-training run (method.positives, issue #13) gives on the
// data: before training, the positives each image has among its patient's other images; every
// epoch, the positives per anchor the loss actually saw in its batches (and, for MoCo, in the
// queue) and the share of anchors left without one. A window too tight for the data shows up
// here (and as a warning) instead of as a loss that quietly learns nothing from patients.
#pragma once

#include "cltci/common/json_writer.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/positives.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cltci::run {

/// The rule as the log and summary.json write it: "window (max_days 7)".
std::string describe_positives(const ssl::PositiveOptions& positives);

/// Per data set image: how many of its patient's other images the rule makes positives (weight
/// > 0), and their weight sum.
struct DatasetPositives {
  std::int64_t images = 0;
  double positives_per_image = 0.0;  ///< mean count over all images
  double weight_per_image = 0.0;     ///< mean weight sum
  double share_without = 0.0;        ///< images with no positive besides their own views
  std::int64_t dated_images = 0;     ///< images with an acquisition time
};
DatasetPositives dataset_positives(const data::CachedDataset& dataset,
                                   const ssl::PositiveOptions& positives);

class PretrainPositives {
 public:
  /// `moco`: the anchors' positives come from the queue (else from the batch).
  PretrainPositives(ssl::PositiveOptions positives, bool moco);

  /// metrics.csv columns, in the order end_epoch() returns their values.
  static std::vector<std::string> columns();
  /// After an epoch: the method's counts since the last call, logged with a warning when most
  /// anchors had no positive from another image (MoCo: from the second epoch on, once the queue
  /// is full); NaNs for methods without patient positives.
  std::vector<double> end_epoch(ssl::Method& method, std::int64_t epoch);
  /// The counts of the last epoch this process ran, if any.
  const std::optional<ssl::PositiveCounts>& last() const { return last_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  /// The "positives" object of summary.json, as the value of the key `json` has just written.
  void write_json(common::JsonWriter& json, const std::optional<DatasetPositives>& dataset) const;

 private:
  ssl::PositiveOptions positives_;
  bool moco_;
  std::optional<ssl::PositiveCounts> last_;
  std::vector<std::string> warnings_;
  bool warned_ = false;
};

}  // namespace cltci::run
