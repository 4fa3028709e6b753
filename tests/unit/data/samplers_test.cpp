#include "cltci/data/samplers.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <vector>

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

// Four patients for coherent groups: 0 has six images (two at an equal time, one undated), 1
// has three (one undated), 2 one undated image, 3 four images 100 days apart. Data set indices
// interleave patients.
constexpr double kUndated = std::numeric_limits<double>::quiet_NaN();
const std::vector<std::int64_t> kTimedPatient = {0, 1, 0, 2, 0, 3, 0, 1, 3, 0, 1, 3, 0, 3};
const std::vector<double> kDays = {0,  10,  1,        kUndated, 1,   0,   5,
                                   10, 100, kUndated, kUndated, 200, 2.5, 300};
// Every known study has two images; images 3 and 10 have none.
const std::vector<std::int64_t> kStudy = {0, 2, 0, -1, 1, 3, 1, 2, 3, 6, -1, 5, 6, 5};

// Splits batches into per-patient groups of `k` (the first image first).
std::vector<Batch> groups_of(const std::vector<Batch>& batches, std::size_t k) {
  std::vector<Batch> groups;
  for (const Batch& batch : batches) {
    EXPECT_EQ(batch.size() % k, 0U);
    for (std::size_t start = 0; start + k <= batch.size(); start += k)
      groups.emplace_back(batch.begin() + static_cast<std::ptrdiff_t>(start),
                          batch.begin() + static_cast<std::ptrdiff_t>(start + k));
  }
  return groups;
}

std::size_t at(std::int64_t image) { return static_cast<std::size_t>(image); }

TEST(PatientSamplerTest, WindowGroupsLieWithinTheWindowOfTheirFirstImage) {
  constexpr std::size_t k = 3;
  const double window = 1.5;
  PatientBatchOptions options{2, static_cast<std::int64_t>(k), false};
  options.window_days = window;
  const PatientBatchSampler sampler(kTimedPatient, options, 7, {}, {kDays, {}});
  EXPECT_EQ(sampler.patients(), 4);
  bool undated_first_seen = false;
  for (std::int64_t epoch = 0; epoch < 60; ++epoch) {
    const std::vector<Batch> batches = sampler.epoch(epoch);
    ASSERT_EQ(batches.size(), 2U);
    std::multiset<std::int64_t> visited;
    for (const Batch& group : groups_of(batches, k)) {
      const std::int64_t first = group[0];
      const std::int64_t p = kTimedPatient[at(first)];
      visited.insert(p);
      std::set<std::int64_t> compatible;  // of the first, itself included
      for (std::size_t i = 0; i < kDays.size(); ++i) {
        if (kTimedPatient[i] == p && std::abs(kDays[i] - kDays[at(first)]) <= window)
          compatible.insert(static_cast<std::int64_t>(i));
      }
      compatible.insert(first);
      for (const std::int64_t image : group) {
        EXPECT_EQ(kTimedPatient[at(image)], p);
        if (std::isnan(kDays[at(first)])) {
          EXPECT_EQ(image, first) << "an undated first image repeats";
        } else {
          EXPECT_LE(std::abs(kDays[at(image)] - kDays[at(first)]), window) << image;
        }
      }
      // As many distinct images as the window allows, up to K.
      const std::set<std::int64_t> distinct(group.begin(), group.end());
      EXPECT_EQ(distinct.size(), std::min(k, compatible.size())) << "first " << first;
      undated_first_seen = undated_first_seen || (p == 0 && std::isnan(kDays[at(first)]));
    }
    EXPECT_EQ(visited, (std::multiset<std::int64_t>{0, 1, 2, 3}));
  }
  EXPECT_TRUE(undated_first_seen) << "the undated image of patient 0 is drawn first sometimes";
  // Patient 3's images are 100 days apart and patient 2 has one undated image: K copies.
  for (const Batch& group : groups_of(sampler.epoch(0), k)) {
    if (kTimedPatient[at(group[0])] >= 2) {
      EXPECT_EQ(group, Batch(k, group[0]));
    }
  }
}

TEST(PatientSamplerTest, EqualTimesAreWithinAnyWindow) {
  PatientBatchOptions options{1, 2, false};
  options.window_days = 1e-9;
  const PatientBatchSampler sampler(kTimedPatient, options, 3, {0, 2, 4}, {kDays, {}});
  for (std::int64_t epoch = 0; epoch < 20; ++epoch) {
    const Batch group = sampler.epoch(epoch).at(0);
    // Images 2 and 4 share day 1; image 0 (day 0) has no partner.
    if (group[0] == 0) {
      EXPECT_EQ(group, (Batch{0, 0}));
    } else {
      EXPECT_EQ(std::set<std::int64_t>(group.begin(), group.end()), (std::set<std::int64_t>{2, 4}));
    }
  }
}

TEST(PatientSamplerTest, SameStudyGroupsShareTheirStudy) {
  constexpr std::size_t k = 2;
  PatientBatchOptions options{4, static_cast<std::int64_t>(k), false};
  options.same_study = true;
  const PatientBatchSampler sampler(kTimedPatient, options, 11, {}, {{}, kStudy});
  for (std::int64_t epoch = 0; epoch < 30; ++epoch) {
    for (const Batch& group : groups_of(sampler.epoch(epoch), k)) {
      const std::int64_t study = kStudy[at(group[0])];
      for (const std::int64_t image : group) {
        if (study < 0) {
          EXPECT_EQ(image, group[0]) << "an unknown study has no partners";
        } else {
          EXPECT_EQ(kStudy[at(image)], study);
        }
      }
      // Every known study here has two images, so a group of a known study has both.
      if (study >= 0) {
        EXPECT_NE(group[0], group[1]);
      }
    }
  }

  // Window and study together: patient 0's study 1 holds days 1 and 5, 4 days apart.
  options.window_days = 3;
  const PatientBatchSampler both(kTimedPatient, options, 11, {4, 6}, {kDays, kStudy});
  for (std::int64_t epoch = 0; epoch < 10; ++epoch) {
    const Batch group = both.epoch(epoch).at(0);
    EXPECT_EQ(group, Batch(k, group[0]));
  }
}

TEST(PatientSamplerTest, CoherentGroupsAreAPureFunctionOfSeedAndEpoch) {
  PatientBatchOptions options{2, 3, false};
  options.window_days = 4;
  options.same_study = true;
  const PatientBatchSampler a(kTimedPatient, options, 5, {}, {kDays, kStudy});
  const PatientBatchSampler b(kTimedPatient, options, 5, {}, {kDays, kStudy});
  for (std::int64_t epoch = 0; epoch < 5; ++epoch) {
    EXPECT_EQ(a.epoch(epoch), a.epoch(epoch));
    EXPECT_EQ(a.epoch(epoch), b.epoch(epoch));
  }
  EXPECT_NE(a.epoch(0), a.epoch(1));
  const PatientBatchSampler other_seed(kTimedPatient, options, 6, {}, {kDays, kStudy});
  EXPECT_NE(a.epoch(0), other_seed.epoch(0));
}

TEST(PatientSamplerTest, TimesWithoutAWindowChangeNothing) {
  const std::vector<std::int64_t> patient = patients_of_images();
  const PatientBatchSampler plain(patient, {2, 3, false}, 42);
  // Pinned: the batches from before windows existed.
  EXPECT_EQ(plain.epoch(0),
            (std::vector<Batch>{{9, 10, 14, 1, 1, 1}, {7, 4, 2, 3, 6, 6}, {11, 5, 8}}));
  EXPECT_EQ(plain.epoch(1),
            (std::vector<Batch>{{3, 6, 6, 10, 13, 14}, {11, 5, 8, 4, 7, 2}, {1, 1, 1}}));
  const std::vector<double> days(patient.size(), 1.0);
  const std::vector<std::int64_t> study(patient.size(), 0);
  const PatientBatchSampler timed(patient, {2, 3, false}, 42, {}, {days, study});
  for (std::int64_t epoch = 0; epoch < 4; ++epoch)
    EXPECT_EQ(timed.epoch(epoch), plain.epoch(epoch));
}

TEST(PatientSamplerTest, BadWindowOptionsAreInputErrors) {
  const auto make = [&](double window, bool same_study, ImageTimes times) {
    PatientBatchOptions options{2, 2, false};
    options.window_days = window;
    options.same_study = same_study;
    PatientBatchSampler(kTimedPatient, options, 1, {}, std::move(times));
  };
  EXPECT_NO_THROW(make(0, false, {}));
  EXPECT_NO_THROW(make(2, true, {kDays, kStudy}));
  EXPECT_THROW(make(-1, false, {kDays, {}}), common::InputError);
  EXPECT_THROW(make(kUndated, false, {kDays, {}}), common::InputError);
  EXPECT_THROW(make(std::numeric_limits<double>::infinity(), false, {kDays, {}}),
               common::InputError);
  EXPECT_THROW(make(2, false, {}), common::InputError);
  EXPECT_THROW(make(2, false, {{}, kStudy}), common::InputError);
  EXPECT_THROW(make(0, true, {kDays, {}}), common::InputError);
  // Times of another data set: a caller's bug, not the user's input.
  EXPECT_THROW(make(2, false, {std::vector<double>(3, 0.0), {}}), common::Error);
}

TEST(ShardTest, RanksSplitEveryBatchIntoContiguousSlices) {
  // Batches of 4, 4 and a short 3: ranks take halves, the 3 cannot be split equally.
  const std::vector<Batch> batches{{10, 11, 12, 13}, {14, 15, 16, 17}, {18, 19, 20}};
  const EpochShard first = shard_epoch(batches, 0, 2);
  const EpochShard second = shard_epoch(batches, 1, 2);
  EXPECT_EQ(first.batches, (std::vector<Batch>{{10, 11}, {14, 15}}));
  EXPECT_EQ(second.batches, (std::vector<Batch>{{12, 13}, {16, 17}}));
  EXPECT_EQ(first.first_positions, (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(second.first_positions, (std::vector<std::int64_t>{2, 6}));
  EXPECT_EQ(first.global_sizes, (std::vector<std::int64_t>{4, 4}));
  EXPECT_EQ(first.dropped, 1);
  // Unequal slices: the 3 gives 1 and 2 (units * r / w cuts), nothing is dropped.
  const EpochShard loose = shard_epoch(batches, 1, 2, 1, false);
  EXPECT_EQ(loose.batches.back(), (Batch{19, 20}));
  EXPECT_EQ(loose.first_positions.back(), 9);
  EXPECT_EQ(loose.dropped, 0);
  // One rank: the batches themselves.
  EXPECT_EQ(shard_epoch(batches, 0, 1).batches, batches);
  EXPECT_THROW(shard_epoch(batches, 2, 2), common::InputError);
  EXPECT_THROW(shard_epoch(batches, 0, 2, 0), common::InputError);
  EXPECT_EQ(shard_indices({10, 11, 12, 13, 14}, 0, 2), (std::vector<std::int64_t>{10, 12, 14}));
  EXPECT_EQ(shard_indices({10, 11, 12, 13, 14}, 1, 2), (std::vector<std::int64_t>{11, 13, 10}));
}

TEST(ShardTest, PatientBatchesShardWholePatientsAndCoverTheEpochOnce) {
  // 12 patients x 3 images, P = 4, K = 3, 2 ranks: every rank gets whole patients, and over the
  // ranks every image of every batch appears exactly once.
  std::vector<std::int64_t> patient_of_image;
  for (std::int64_t p = 0; p < 12; ++p)
    for (int i = 0; i < 3; ++i) patient_of_image.push_back(p);
  PatientBatchOptions options;
  options.patients_per_batch = 4;
  options.images_per_patient = 3;
  options.drop_last = true;
  const PatientBatchSampler sampler(patient_of_image, options, 99);
  const std::vector<Batch> epoch = sampler.epoch(1);
  std::map<std::int64_t, int> seen;
  for (int rank = 0; rank < 2; ++rank) {
    const EpochShard shard = shard_epoch(epoch, rank, 2, 3);
    ASSERT_EQ(shard.batches.size(), epoch.size());
    for (const Batch& batch : shard.batches) {
      ASSERT_EQ(batch.size(), 6U);
      for (std::size_t g = 0; g < batch.size(); g += 3) {
        EXPECT_EQ(patient_of_image[static_cast<std::size_t>(batch[g])],
                  patient_of_image[static_cast<std::size_t>(batch[g + 2])]);
      }
      for (const std::int64_t image : batch) ++seen[image];
    }
  }
  std::map<std::int64_t, int> expected;
  for (const Batch& batch : epoch)
    for (const std::int64_t image : batch) ++expected[image];
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(expected.size(), 36U);
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
