#include "cltci/data/folds.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/samplers.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

// 40 patients with 1..6 images each, listed out of patient order.
std::vector<std::string> patient_ids() {
  std::vector<std::string> ids;
  for (int round = 0; round < 6; ++round) {
    for (int p = 0; p < 40; ++p) {
      if (round < 1 + (p * 7) % 6) ids.push_back("site:" + std::to_string(p));
    }
  }
  return ids;
}

TEST(FoldsTest, NoPatientInTwoFoldsAndBalancedSizes) {
  const auto ids = patient_ids();
  const Folds folds = make_folds(ids, {});
  ASSERT_EQ(folds.fold_of_image.size(), ids.size());
  std::map<std::string, int> fold_of_patient;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto [it, fresh] = fold_of_patient.emplace(ids[i], folds.fold_of_image[i]);
    EXPECT_EQ(it->second, folds.fold_of_image[i]) << ids[i];
  }
  std::size_t smallest = ids.size(), largest = 0, total = 0;
  for (int f = 0; f < 5; ++f) {
    const auto test = folds.test(f);
    const auto train = folds.train(f);
    EXPECT_EQ(test.size() + train.size(), ids.size());
    std::set<std::string> test_patients, train_patients;
    for (const auto i : test) test_patients.insert(ids[static_cast<std::size_t>(i)]);
    for (const auto i : train) train_patients.insert(ids[static_cast<std::size_t>(i)]);
    for (const auto& p : test_patients) EXPECT_EQ(train_patients.count(p), 0U) << p;
    smallest = std::min(smallest, test.size());
    largest = std::max(largest, test.size());
    total += test.size();
  }
  EXPECT_EQ(total, ids.size());
  EXPECT_LE(largest - smallest, 6U);  // at most one patient's images apart
  EXPECT_EQ(make_folds(ids, {}).fold_of_image, folds.fold_of_image);
  EXPECT_NE(make_folds(ids, {5, GroupBy::kPatient, 7}).fold_of_image, folds.fold_of_image);
}

TEST(FoldsTest, ImageGroupingCutsFoldsLikeKFold) {
  const std::vector<std::string> ids(308, "bch");  // the paper's BCH set: one id is irrelevant here
  const Folds folds = make_folds(ids, {5, GroupBy::kImage, 12345});
  std::vector<std::size_t> sizes;
  for (int f = 0; f < 5; ++f) sizes.push_back(folds.test(f).size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{62, 62, 62, 61, 61}));
}

TEST(FoldsTest, MoreFoldsThanPatientsIsAnInputError) {
  const std::vector<std::string> ids{"a", "a", "b", "c", "c", "d"};
  try {
    make_folds(ids, {5, GroupBy::kPatient, 1});
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_STREQ(e.what(), "folds (5) exceed the 4 patients of the data set");
  }
  EXPECT_NO_THROW(make_folds(ids, {5, GroupBy::kImage, 1}));
}

TEST(FoldsTest, SplitsJsonLayout) {
  Folds folds;
  folds.count = 2;
  folds.seed = 7;
  folds.fold_of_image = {0, 1, 0};
  const std::string text = folds_to_json(folds, {"a", "b\"c", "a"});
  // Everything but the fingerprint (a hash of the patient list), line by line.
  const std::size_t begin = text.find("  \"fingerprint\": \"");
  ASSERT_NE(begin, std::string::npos) << text;
  const std::size_t end = text.find('\n', begin);
  EXPECT_EQ(end - begin, std::string("  \"fingerprint\": \"0123456789abcdef\",").size()) << text;
  EXPECT_EQ(text.substr(0, begin),
            "{\n"
            "  \"version\": 1,\n"
            "  \"folds\": 2,\n"
            "  \"group_by\": \"patient\",\n"
            "  \"seed\": 7,\n"
            "  \"images\": 3,\n");
  EXPECT_EQ(text.substr(end + 1),
            "  \"fold_of_image\": [0, 1, 0],\n"
            "  \"test_patients\": [\n"
            "    [\"a\"],\n"
            "    [\"b\\\"c\"]\n"
            "  ]\n"
            "}\n");
}

TEST(FoldsTest, SplitsFileIsWrittenOnceReusedAndValidated) {
  testing::TempDir dir;
  const auto ids = patient_ids();
  const auto file = dir / "splits.json";
  bool created = false;
  const Folds first = load_or_create_folds(file, ids, {}, &created);
  EXPECT_TRUE(created);
  const std::string text = common::read_file(file);
  EXPECT_NE(text.find("\"group_by\": \"patient\""), std::string::npos);

  const Folds again = load_or_create_folds(file, ids, {}, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(again.fold_of_image, first.fold_of_image);
  EXPECT_EQ(common::read_file(file), text);

  // The stored split wins over a re-split: move site:0 (its only image is image 0) elsewhere.
  ASSERT_EQ(ids[0], "site:0");
  ASSERT_EQ(std::count(ids.begin(), ids.end(), "site:0"), 1);
  Folds edited = first;
  edited.fold_of_image[0] = (first.fold_of_image[0] + 1) % 5;
  common::write_file_atomic(file, folds_to_json(edited, ids));
  EXPECT_EQ(load_or_create_folds(file, ids, {}).fold_of_image, edited.fold_of_image);
  // Moving one of site:1's two images breaks the patient grouping: refused.
  ASSERT_EQ(ids[1], "site:1");
  ASSERT_EQ(std::count(ids.begin(), ids.end(), "site:1"), 2);
  edited = first;
  edited.fold_of_image[1] = (first.fold_of_image[1] + 1) % 5;
  common::write_file_atomic(file, folds_to_json(edited, ids));
  EXPECT_THROW(load_or_create_folds(file, ids, {}), common::InputError);
  common::write_file_atomic(file, text);

  try {
    load_or_create_folds(file, ids, {10, GroupBy::kPatient, 12345});
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("folds=5"), std::string::npos) << e.what();
  }
  auto other = ids;
  other.push_back("site:new");
  EXPECT_THROW(load_or_create_folds(file, other, {}), common::InputError);
  other.pop_back();
  std::swap(other[0], other.back());
  EXPECT_THROW(load_or_create_folds(file, other, {}), common::InputError);
}

TEST(FoldsTest, BudgetLargerThanTheTrainingPartIsAnInputError) {
  const auto ids = patient_ids();
  const Folds folds = make_folds(ids, {});
  const auto train = folds.train(0);
  EXPECT_EQ(labelled_subset(train, 10, 1, 0).size(), 10U);
  EXPECT_THROW(labelled_subset(train, static_cast<std::int64_t>(train.size()) + 1, 1, 0),
               common::InputError);
}

}  // namespace
}  // namespace cltci::data
