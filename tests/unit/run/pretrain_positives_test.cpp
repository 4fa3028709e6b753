#include "cltci/run/pretrain_positives.h"

#include "cltci/common/json_writer.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/ssl/positives.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

using testing::kNaN;

/// Patient a: days 0, 1, 4 and one undated image (studies x, x, y, -); patient b: one image.
data::CachedDataset hand_built() {
  const std::vector<std::string> patients{"a", "a", "a", "a", "b"};
  const std::vector<double> days{0.0, 1.0, 4.0, kNaN, 2.0};
  const std::vector<std::string> studies{"x", "x", "y", "", "z"};
  std::vector<data::SourceRecord> records;
  for (std::size_t i = 0; i < patients.size(); ++i) {
    data::SourceRecord record;
    record.name = "img" + std::to_string(i);
    record.patient_id = patients[i];
    record.order = static_cast<std::int64_t>(i);
    record.identity = record.name;
    record.load = [] { return data::SourceImage{cv::Mat(8, 8, CV_8UC1, cv::Scalar(9)), {}}; };
    record.days = days[i];
    record.study = studies[i];
    records.push_back(std::move(record));
  }
  data::CacheOptions options;
  options.image_size = 8;
  options.threads = 1;
  return data::build_cache(records, options);
}

ssl::PositiveOptions rule(ssl::PositiveRule kind, double parameter = 0.0) {
  ssl::PositiveOptions options;
  options.rule = kind;
  if (kind == ssl::PositiveRule::kWindow) options.max_days = parameter;
  if (kind == ssl::PositiveRule::kWeighted) options.time_scale_days = parameter;
  return options;
}

TEST(PretrainPositives, DatasetCountsFollowTheRuleOnHandBuiltImages) {
  const data::CachedDataset dataset = hand_built();
  // patient: a's 4 images have 3 others each, b's image none: 12 / 5, 1 of 5 without.
  DatasetPositives p = dataset_positives(dataset, rule(ssl::PositiveRule::kPatient));
  EXPECT_EQ(p.images, 5);
  EXPECT_EQ(p.dated_images, 4);
  EXPECT_DOUBLE_EQ(p.positives_per_image, 12.0 / 5.0);
  EXPECT_DOUBLE_EQ(p.weight_per_image, 12.0 / 5.0);
  EXPECT_DOUBLE_EQ(p.share_without, 1.0 / 5.0);
  // window 1 day: only days 0 and 1 pair (inclusive boundary): 2 / 5, 3 of 5 without.
  p = dataset_positives(dataset, rule(ssl::PositiveRule::kWindow, 1.0));
  EXPECT_DOUBLE_EQ(p.positives_per_image, 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(p.share_without, 3.0 / 5.0);
  // window 4 days: 0-1, 0-4, 1-4 pair; the undated image pairs with nothing.
  p = dataset_positives(dataset, rule(ssl::PositiveRule::kWindow, 4.0));
  EXPECT_DOUBLE_EQ(p.positives_per_image, 6.0 / 5.0);
  EXPECT_DOUBLE_EQ(p.share_without, 2.0 / 5.0);
  // study: images 0 and 1 share study x.
  p = dataset_positives(dataset, rule(ssl::PositiveRule::kStudy));
  EXPECT_DOUBLE_EQ(p.positives_per_image, 2.0 / 5.0);
  // weighted, tau 2: pairs 0-1 (e^-1/2), 0-4 (e^-2), 1-4 (e^-3/2), each counted from both ends.
  p = dataset_positives(dataset, rule(ssl::PositiveRule::kWeighted, 2.0));
  EXPECT_DOUBLE_EQ(p.positives_per_image, 6.0 / 5.0);
  EXPECT_NEAR(p.weight_per_image, 2.0 * (std::exp(-0.5) + std::exp(-2.0) + std::exp(-1.5)) / 5.0,
              1e-12);
  EXPECT_DOUBLE_EQ(p.share_without, 2.0 / 5.0);
}

TEST(PretrainPositives, DescribesTheRuleAndWritesItsJson) {
  EXPECT_EQ(describe_positives(rule(ssl::PositiveRule::kPatient)), "patient");
  EXPECT_EQ(describe_positives(rule(ssl::PositiveRule::kWindow, 7.0)), "window (max_days 7)");
  EXPECT_EQ(describe_positives(rule(ssl::PositiveRule::kWeighted, 2.5)),
            "weighted (time_scale_days 2.5)");
  const PretrainPositives positives(rule(ssl::PositiveRule::kWindow, 7.0), true);
  EXPECT_EQ(PretrainPositives::columns(),
            (std::vector<std::string>{"pos_per_anchor", "pos_weight", "pos_share_without"}));
  DatasetPositives data;
  data.images = 5;
  data.dated_images = 4;
  data.positives_per_image = 0.4;
  data.weight_per_image = 0.4;
  data.share_without = kNaN;  // written as null
  common::JsonWriter json;
  json.begin_object().key("positives");
  positives.write_json(json, data);
  json.end_object();
  EXPECT_EQ(json.text(),
            "{\n"
            "  \"positives\": {\n"
            "    \"rule\": \"window\",\n"
            "    \"max_days\": 7,\n"
            "    \"time_scale_days\": 0,\n"
            "    \"data\": {\"images\": 5, \"dated_images\": 4, \"positives_per_image\": 0.4, "
            "\"weight_per_image\": 0.4, \"share_without\": null},\n"
            "    \"warnings\": []\n"
            "  }\n"
            "}\n");
}

}  // namespace
}  // namespace cltci::run
