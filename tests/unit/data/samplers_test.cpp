#include "cltci/data/samplers.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace cltci::data {
namespace {

TEST(SamplersTest, ShuffledEpochIsAPermutationThatChangesWithTheEpoch) {
  std::vector<std::int64_t> indices(50);
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::int64_t>(i);
  const auto e0 = shuffled_epoch(indices, 9, 0);
  const auto e1 = shuffled_epoch(indices, 9, 1);
  EXPECT_EQ(e0, shuffled_epoch(indices, 9, 0));
  EXPECT_NE(e0, e1);
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, indices);
  const auto batches = make_batches(e0, 16, false);
  ASSERT_EQ(batches.size(), 4U);
  EXPECT_EQ(batches.back().size(), 2U);
  EXPECT_EQ(make_batches(e0, 16, true).size(), 3U);
}

// Patients 0..4 with 5, 1, 2, 3 and 4 images; data set indices interleave patients.
std::vector<std::int64_t> patients_of_images() {
  return {0, 1, 0, 2, 0, 3, 2, 0, 3, 4, 4, 3, 0, 4, 4};
}

TEST(PatientSamplerTest, ExactBatchComposition) {
  const std::vector<std::int64_t> patient = patients_of_images();
  PatientBatchSampler sampler(patient, {2, 3, false}, 42);
  EXPECT_EQ(sampler.patients(), 5);
  EXPECT_EQ(sampler.batches_per_epoch(), 3);
  for (std::int64_t epoch = 0; epoch < 4; ++epoch) {
    const std::vector<Batch> batches = sampler.epoch(epoch);
    ASSERT_EQ(batches.size(), 3U);
    EXPECT_EQ(batches[0].size(), 6U);
    EXPECT_EQ(batches[1].size(), 6U);
    EXPECT_EQ(batches[2].size(), 3U);  // the fifth patient alone
    std::multiset<std::int64_t> visited;
    for (const Batch& batch : batches) {
      for (std::size_t start = 0; start < batch.size(); start += 3) {
        const std::int64_t p = patient[static_cast<std::size_t>(batch[start])];
        std::multiset<std::int64_t> images;
        for (std::size_t j = start; j < start + 3; ++j) {
          EXPECT_EQ(patient[static_cast<std::size_t>(batch[j])], p)
              << "K images of one patient are adjacent";
          images.insert(batch[j]);
        }
        visited.insert(p);
        const std::set<std::int64_t> distinct(images.begin(), images.end());
        const std::size_t owned =
            static_cast<std::size_t>(std::count(patient.begin(), patient.end(), p));
        // K distinct images when the patient has K, else all of theirs plus repeats.
        EXPECT_EQ(distinct.size(), std::min<std::size_t>(owned, 3)) << "patient " << p;
      }
    }
    EXPECT_EQ(visited, (std::multiset<std::int64_t>{0, 1, 2, 3, 4}));
  }
  // The one-image patient (index 1) fills its slots with that image.
  for (const Batch& batch : sampler.epoch(0)) {
    for (std::size_t start = 0; start < batch.size(); start += 3) {
      if (patient[static_cast<std::size_t>(batch[start])] == 1) {
        EXPECT_EQ((Batch{batch[start], batch[start + 1], batch[start + 2]}), (Batch{1, 1, 1}));
      }
    }
  }
  EXPECT_EQ(sampler.epoch(2), sampler.epoch(2));
  EXPECT_NE(sampler.epoch(0), sampler.epoch(1));
  PatientBatchSampler dropping(patient, {2, 3, true}, 42);
  EXPECT_EQ(dropping.epoch(0).size(), 2U);
  EXPECT_EQ(dropping.epoch(0)[0], sampler.epoch(0)[0]);
}

TEST(PatientSamplerTest, RestrictedToASubsetOfImages) {
  const std::vector<std::int64_t> patient = patients_of_images();
  PatientBatchSampler sampler(patient, {8, 2, false}, 1, {0, 2, 1, 9});
  EXPECT_EQ(sampler.patients(), 3);
  const auto batches = sampler.epoch(0);
  ASSERT_EQ(batches.size(), 1U);
  std::set<std::int64_t> used(batches[0].begin(), batches[0].end());
  EXPECT_EQ(used, (std::set<std::int64_t>{0, 1, 2, 9}));
}

TEST(ShardTest, RanksGetEqualDisjointShares) {
  std::vector<Batch> batches;
  for (std::int64_t b = 0; b < 7; ++b) batches.push_back({b});
  EXPECT_EQ(shard_batches(batches, 0, 2), (std::vector<Batch>{{0}, {2}, {4}}));
  EXPECT_EQ(shard_batches(batches, 1, 2), (std::vector<Batch>{{1}, {3}, {5}}));
  EXPECT_EQ(shard_batches(batches, 0, 1).size(), 7U);
  EXPECT_EQ(shard_indices({10, 11, 12, 13, 14}, 0, 2), (std::vector<std::int64_t>{10, 12, 14}));
  EXPECT_EQ(shard_indices({10, 11, 12, 13, 14}, 1, 2), (std::vector<std::int64_t>{11, 13, 10}));
  EXPECT_THROW(shard_batches(batches, 2, 2), common::InputError);
}

TEST(LabelledSubsetTest, SubsetsAreNestedAcrossM) {
  std::vector<std::int64_t> train;
  for (std::int64_t i = 0; i < 100; ++i) train.push_back(3 * i);
  const auto m10 = labelled_subset(train, 10, 5, 0);
  const auto m20 = labelled_subset(train, 20, 5, 0);
  const auto m40 = labelled_subset(train, 40, 5, 0);
  EXPECT_EQ(m10.size(), 10U);
  EXPECT_TRUE(std::includes(m20.begin(), m20.end(), m10.begin(), m10.end()));
  EXPECT_TRUE(std::includes(m40.begin(), m40.end(), m20.begin(), m20.end()));
  for (const std::int64_t i : m40) EXPECT_EQ(i % 3, 0);
  auto reversed = train;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(labelled_subset(reversed, 20, 5, 0), m20);
  EXPECT_NE(labelled_subset(train, 20, 5, 1), m20);
  EXPECT_EQ(labelled_subset(train, 100, 5, 0), train);
  try {
    labelled_subset(train, 101, 5, 2);
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_STREQ(e.what(), "labelled images M=101 exceeds the 100 training images of fold 2");
  }
}

}  // namespace
}  // namespace cltci::data
