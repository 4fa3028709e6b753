#include "cltci/run/pretrain_positives.h"

#include "cltci/common/json_writer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

constexpr double kNotCounted = std::numeric_limits<double>::quiet_NaN();
/// Above this share of anchors without a positive the rule leaves most of a batch with its own
/// views only: CL-TCI degenerates towards SimCLR / MoCo, which the user should hear about.
constexpr double kWarnShareWithout = 0.5;

/// For people: 7, 0.4 (std::to_string's %f without trailing zeros).
std::string number(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

/// summary.json's figures as number() writes them; null when not finite.
const common::JsonNumber kNumber = common::JsonNumber::fixed_trimmed(6);

}  // namespace

std::string describe_positives(const ssl::PositiveOptions& positives) {
  std::string text = ssl::to_string(positives.rule);
  if (positives.rule == ssl::PositiveRule::kWindow) {
    text += " (max_days " + number(positives.max_days) + ")";
  } else if (positives.rule == ssl::PositiveRule::kWeighted) {
    text += " (time_scale_days " + number(positives.time_scale_days) + ")";
  }
  return text;
}

DatasetPositives dataset_positives(const data::CachedDataset& dataset,
                                   const ssl::PositiveOptions& positives) {
  DatasetPositives result;
  result.images = dataset.size();
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(dataset.patients()));
  for (std::int64_t i = 0; i < dataset.size(); ++i) {
    groups[static_cast<std::size_t>(dataset.patient_index(i))].push_back(i);
    if (!std::isnan(dataset.days(i))) ++result.dated_images;
  }
  if (result.images == 0) return result;
  double count = 0.0;
  double weight = 0.0;
  std::int64_t without = 0;
  for (const std::vector<std::int64_t>& group : groups) {
    if (group.empty()) continue;
    const auto n = static_cast<std::int64_t>(group.size());
    std::vector<double> days;
    std::vector<std::int64_t> studies;
    for (const std::int64_t i : group) {
      days.push_back(dataset.days(i));
      studies.push_back(dataset.study_index(i));
    }
    ssl::PairAttributes attributes;
    attributes.ids = torch::zeros({n}, torch::kLong);
    attributes.days = torch::tensor(days, torch::kDouble);
    attributes.studies = torch::tensor(studies, torch::kLong);
    attributes.images = torch::tensor(group, torch::kLong);
    // The rule's weights among the patient's images, the image itself (weight 1) left out.
    const at::Tensor w = ssl::positive_weights(positives, attributes, attributes, torch::kDouble)
                             .fill_diagonal_(0.0);
    const at::Tensor per_image = (w > 0).sum(1);
    count += per_image.sum().item<double>();
    weight += w.sum().item<double>();
    without += (per_image == 0).sum().item<std::int64_t>();
  }
  const auto images = static_cast<double>(result.images);
  result.positives_per_image = count / images;
  result.weight_per_image = weight / images;
  result.share_without = static_cast<double>(without) / images;
  return result;
}

PretrainPositives::PretrainPositives(ssl::PositiveOptions positives, bool moco)
    : positives_(positives), moco_(moco) {}

std::vector<std::string> PretrainPositives::columns() {
  return {"pos_per_anchor", "pos_weight", "pos_share_without"};
}

std::vector<double> PretrainPositives::end_epoch(ssl::Method& method, std::int64_t epoch) {
  const std::optional<ssl::PositiveCounts> counts = method.take_positive_counts();
  if (!counts) return std::vector<double>(columns().size(), kNotCounted);
  last_ = counts;
  spdlog::info(
      "[positives] epoch {}: {:.2f} positives per anchor from other images of the patient in the "
      "{} (weight {:.2f}); {:.1f} % of anchors had none",
      epoch + 1, counts->positives_per_anchor, moco_ ? "queue" : "batch", counts->weight_per_anchor,
      100.0 * counts->share_without);
  // MoCo's queue fills during the first epoch, whose counts are low whatever the rule.
  const bool settled = !moco_ || epoch >= 1;
  if (counts->share_without > kWarnShareWithout && settled && !warned_) {
    // Once per process: the figure is in every row of metrics.csv anyway.
    warned_ = true;
    std::string warning =
        "positives " + describe_positives(positives_) + ": " +
        number(std::round(1000.0 * counts->share_without) / 10.0) + " % of the anchors of epoch " +
        std::to_string(epoch + 1) + " had no positive besides their own image; the rule is too " +
        "tight for the data (widen method.max_days / time_scale_days, or use positives: " +
        "patient)";
    spdlog::warn("[positives] {}", warning);
    warnings_.push_back(std::move(warning));
  }
  return {counts->positives_per_anchor, counts->weight_per_anchor, counts->share_without};
}

void PretrainPositives::write_json(common::JsonWriter& json,
                                   const std::optional<DatasetPositives>& dataset) const {
  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  json.begin_object();
  json.member("rule", ssl::to_string(positives_.rule));
  json.member("max_days", positives_.max_days, kNumber);
  json.member("time_scale_days", positives_.time_scale_days, kNumber);
  if (dataset) {
    json.key("data").begin_object(one_line);
    json.member("images", dataset->images).member("dated_images", dataset->dated_images);
    json.member("positives_per_image", dataset->positives_per_image, kNumber);
    json.member("weight_per_image", dataset->weight_per_image, kNumber);
    json.member("share_without", dataset->share_without, kNumber);
    json.end_object();
  }
  if (last_) {
    json.key("last_epoch").begin_object(one_line);
    json.member("from", moco_ ? "queue" : "batch");
    json.member("positives_per_anchor", last_->positives_per_anchor, kNumber);
    json.member("weight_per_anchor", last_->weight_per_anchor, kNumber);
    json.member("share_without", last_->share_without, kNumber);
    json.end_object();
  }
  json.key("warnings").begin_array(one_line);
  for (const std::string& warning : warnings_) json.value(warning);
  json.end_array();
  json.end_object();
}

}  // namespace cltci::run
