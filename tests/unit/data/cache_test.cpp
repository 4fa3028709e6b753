#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/phantom.h"
#include "cltci/data/square_geometry.h"
#include "common/crc32c.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

struct FileSet {
  testing::TempDir dir;
  std::vector<std::filesystem::path> images;
  std::atomic<int> loads{0};

  explicit FileSet(int count) {
    for (int i = 0; i < count; ++i) {
      cv::Mat image(30, 50, CV_8UC1);
      cv::randu(image, 0, 256);
      images.push_back(dir / ("img" + std::to_string(i) + ".png"));
      cv::imwrite(images.back().string(), image);
      cv::Mat labels = cv::Mat::zeros(30, 50, CV_8UC1);
      labels(cv::Rect(6, 5, 16, 20)).setTo(2);
      labels(cv::Rect(27, 6, 16, 15)).setTo(1);
      labels(cv::Rect(1, 1, 3, 2)).setTo(255);
      cv::imwrite((dir / ("img" + std::to_string(i) + "_mask.png")).string(), labels);
    }
  }
  std::vector<SourceRecord> records() {
    std::vector<SourceRecord> out;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const std::filesystem::path image = images[i];
      std::filesystem::path mask = image;
      mask.replace_filename(image.stem().string() + "_mask.png");
      out.push_back({image.string(), "patient" + std::to_string(i / 2),
                     static_cast<std::int64_t>(i % 2),
                     file_identity(image) + "+" + file_identity(mask), [this, image, mask] {
                       ++loads;
                       return SourceImage{cv::imread(image.string(), cv::IMREAD_UNCHANGED),
                                          cv::imread(mask.string(), cv::IMREAD_UNCHANGED)};
                     }});
    }
    return out;
  }
};

TEST(CacheTest, ReusedWhenUnchangedRebuiltWhenSourcesOrOptionsChange) {
  FileSet files(4);
  const std::filesystem::path store = files.dir / "cache" / "set.bin";
  CacheOptions options;
  options.image_size = 32;
  options.threads = 2;
  CacheOutcome outcome{};
  const CachedDataset first = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_EQ(files.loads.load(), 4);

  const CachedDataset again = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kReused);
  EXPECT_EQ(files.loads.load(), 4);
  ASSERT_EQ(again.size(), 4);
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(cv::norm(first.image(i), again.image(i), cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(first.labels(i), again.labels(i), cv::NORM_INF), 0.0);
    EXPECT_EQ(again.patient_id(i), "patient" + std::to_string(i / 2));
    EXPECT_EQ(again.order(i), i % 2);
    EXPECT_EQ(again.geometry(i).pad_top, 10);
    EXPECT_EQ(again.patient_index(i), i / 2);
  }

  // A touched file (same bytes, new mtime) rebuilds.
  std::filesystem::last_write_time(
      files.images[2], std::filesystem::last_write_time(files.images[2]) + std::chrono::seconds(5));
  load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_EQ(files.loads.load(), 8);
  load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kReused);

  // So does another preprocessing option.
  options.bits = 16;
  const CachedDataset deep = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_EQ(deep.image(0).type(), CV_16UC1);
}

TEST(CacheTest, TruncatedStoreIsRebuilt) {
  FileSet files(2);
  const std::filesystem::path store = files.dir / "set.bin";
  CacheOptions options;
  options.image_size = 16;
  load_or_build_cache(store, files.records(), options);
  std::filesystem::resize_file(store, std::filesystem::file_size(store) - 100);
  EXPECT_THROW(read_cache(store), common::Error);
  CacheOutcome outcome{};
  load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
}

// Flips one bit of `file` at `offset` (from the end when negative).
void flip_bit(const std::filesystem::path& file, std::int64_t offset) {
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  if (offset < 0) offset += static_cast<std::int64_t>(std::filesystem::file_size(file));
  io.seekg(offset);
  char byte = 0;
  io.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x10);
  io.seekp(offset);
  io.write(&byte, 1);
}

TEST(CacheTest, Crc32cMatchesTheStandardCheckValue) {
  const char digits[] = "123456789";
  EXPECT_EQ(common::detail::crc32c(digits, 9), 0xE3069283U);
  // Chaining, the portable tables and the SSE4.2 path agree (odd lengths and offsets included).
  EXPECT_EQ(common::detail::crc32c(digits + 4, 5, common::detail::crc32c(digits, 4)), 0xE3069283U);
  std::vector<unsigned char> bytes(1001);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 37 + 11);
  EXPECT_EQ(common::detail::crc32c(bytes.data() + 1, 999),
            ~common::detail::crc32c_update_table(~0U, bytes.data() + 1, 999));
}

TEST(CacheTest, BitFlippedStoreIsRebuiltNotReused) {
  FileSet files(2);
  const std::filesystem::path store = files.dir / "set.bin";
  CacheOptions options;
  options.image_size = 16;
  const CachedDataset built = load_or_build_cache(store, files.records(), options);
  const std::string good = common::read_file(store);
  // A pixel of the second image (before its label maps, checksums and trailer), then a byte of
  // the orders table (metadata): the size stays right, so only the checksums can tell.
  const std::int64_t pixel = -8 - (2 + 2 + 2) * 4 - 2 * 16 * 16 - 5;
  for (const std::int64_t offset : {pixel, std::int64_t{56 + 2 * 8 + 3}}) {
    flip_bit(store, offset);
    ASSERT_EQ(std::filesystem::file_size(store), good.size());
    try {
      read_cache(store);
      ADD_FAILURE() << "a corrupt cache was read";
    } catch (const ChecksumError& e) {
      EXPECT_NE(std::string(e.what()).find(store.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(read_cache(store, /*verify=*/false));  // nothing else notices
    CacheOutcome outcome{};
    const int loads = files.loads.load();
    const CachedDataset again = load_or_build_cache(store, files.records(), options, &outcome);
    EXPECT_EQ(outcome, CacheOutcome::kBuilt);
    EXPECT_EQ(files.loads.load(), loads + 2);
    EXPECT_EQ(common::read_file(store), good);  // rebuilt to the same bytes
    for (std::int64_t i = 0; i < 2; ++i)
      EXPECT_EQ(cv::norm(built.image(i), again.image(i), cv::NORM_INF), 0.0);
  }
}

TEST(CacheTest, PhantomRoundTripsThroughTheStore) {
  testing::TempDir dir;
  PhantomOptions phantom;
  phantom.patients = 3;
  phantom.width = 72;
  phantom.height = 64;
  const auto records = phantom_sources(phantom);
  CacheOptions options;
  options.image_size = 48;
  const CachedDataset built = build_cache(records, options);
  write_cache(built, dir / "p.bin");
  const CachedDataset read = read_cache(dir / "p.bin");
  ASSERT_EQ(read.size(), static_cast<std::int64_t>(records.size()));
  EXPECT_EQ(read.key(), cache_key(records, options));
  for (std::int64_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(cv::norm(built.image(i), read.image(i), cv::NORM_INF), 0.0);
    ASSERT_TRUE(read.has_labels(i));
    EXPECT_EQ(cv::norm(built.labels(i), read.labels(i), cv::NORM_INF), 0.0);
    EXPECT_EQ(read.name(i), records[static_cast<std::size_t>(i)].name);
    EXPECT_EQ(read.geometry(i).pad_top, 4);
  }
  // The stored labels are the native ones, padded and resized.
  const PhantomImage first = render_phantom(phantom, 0, 0);
  const cv::Mat expected = square_resize_labels(first.labels, 48);
  EXPECT_EQ(cv::norm(read.labels(0), expected, cv::NORM_INF), 0.0);
  EXPECT_EQ(read.patients(), 3);
}

// Four in-memory 8x8 images of two patients with times (one undated) and studies (one unknown).
std::vector<SourceRecord> timed_records() {
  std::vector<SourceRecord> records;
  const double days[] = {11017.5, std::numeric_limits<double>::quiet_NaN(), -0.25, 11017.5};
  const char* studies[] = {"s2", "", "s1", "s2"};
  for (int i = 0; i < 4; ++i) {
    SourceRecord record{"r" + std::to_string(i), "p" + std::to_string(i / 2), i % 2,
                        "r" + std::to_string(i), [i] {
                          return SourceImage{cv::Mat(8, 8, CV_8UC1, cv::Scalar(10 * i)), {}};
                        }};
    record.days = days[i];
    record.study = studies[i];
    records.push_back(std::move(record));
  }
  return records;
}

TEST(CacheTest, TimesAndStudiesRoundTripThroughTheStore) {
  testing::TempDir dir;
  const std::vector<SourceRecord> records = timed_records();
  CacheOptions options;
  options.image_size = 8;
  const CachedDataset built = build_cache(records, options);
  write_cache(built, dir / "t.bin");
  const CachedDataset read = read_cache(dir / "t.bin");
  for (const CachedDataset* data : {&built, &read}) {
    ASSERT_EQ(data->size(), 4);
    EXPECT_EQ(data->days(0), 11017.5);
    EXPECT_TRUE(std::isnan(data->days(1)));
    EXPECT_EQ(data->days(2), -0.25);
    EXPECT_EQ(data->image_days().size(), 4U);
    EXPECT_EQ(data->dated_images(), 3);
    EXPECT_EQ(data->study(0), "s2");
    EXPECT_EQ(data->study(1), "");
    // Dense over the known studies sorted by id; -1 for the unknown one.
    EXPECT_EQ(data->studies(), 2);
    EXPECT_EQ(data->study_indices(), (std::vector<std::int64_t>{1, -1, 0, 1}));
    EXPECT_EQ(data->study_index(2), 0);
    EXPECT_EQ(data->patient_index(3), 1);
  }
  // Bit for bit, NaN included.
  EXPECT_EQ(std::memcmp(built.image_days().data(), read.image_days().data(), 4 * sizeof(double)),
            0);
  // Writing what was read gives the same file.
  write_cache(read, dir / "again.bin");
  EXPECT_EQ(common::read_file(dir / "again.bin"), common::read_file(dir / "t.bin"));
}

TEST(CacheTest, ChangedTimeOrStudyRebuilds) {
  testing::TempDir dir;
  CacheOptions options;
  options.image_size = 8;
  std::vector<SourceRecord> records = timed_records();
  const std::uint64_t key = cache_key(records, options);
  EXPECT_EQ(cache_key(timed_records(), options), key);
  CacheOutcome outcome{};
  load_or_build_cache(dir / "t.bin", records, options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  load_or_build_cache(dir / "t.bin", records, options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kReused);

  records[0].days += 1.0 / 86400.0;  // one second later
  EXPECT_NE(cache_key(records, options), key);
  const CachedDataset later = load_or_build_cache(dir / "t.bin", records, options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_EQ(later.days(0), records[0].days);

  records = timed_records();
  records[1].days = 0;  // an undated image gets a time
  EXPECT_NE(cache_key(records, options), key);
  records = timed_records();
  records[1].study = "s1";
  EXPECT_NE(cache_key(records, options), key);
  const CachedDataset moved = load_or_build_cache(dir / "t.bin", records, options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_EQ(moved.study_indices(), (std::vector<std::int64_t>{1, 0, 0, 1}));
}

TEST(CacheTest, BitFlippedTimeIsCaughtByTheHeaderChecksum) {
  testing::TempDir dir;
  CacheOptions options;
  options.image_size = 8;
  write_cache(build_cache(timed_records(), options), dir / "t.bin");
  // Header (56), mask slots (4 x 8) and orders (4 x 8), then the days: a byte of the first.
  flip_bit(dir / "t.bin", 56 + 4 * 8 + 4 * 8 + 6);
  EXPECT_THROW(read_cache(dir / "t.bin"), ChecksumError);
  EXPECT_NE(read_cache(dir / "t.bin", /*verify=*/false).days(0), 11017.5);
}

TEST(CacheTest, BadLabelValueNamesTheRecord) {
  SourceRecord record{"scans/bad.png", "p", 0, "bad", [] {
                        cv::Mat labels = cv::Mat::zeros(8, 8, CV_8UC1);
                        labels.at<std::uint8_t>(3, 4) = 7;
                        return SourceImage{cv::Mat::zeros(8, 8, CV_8UC1), labels};
                      }};
  try {
    build_cache({record}, CacheOptions{});
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("scans/bad.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("value 7"), std::string::npos) << e.what();
  }
}

// Phantom records with label maps on some images only (build_cache_file keeps those to the end).
std::vector<SourceRecord> partly_labelled_phantom(int patients) {
  PhantomOptions phantom;
  phantom.patients = patients;
  phantom.width = 40;
  phantom.height = 32;
  std::vector<SourceRecord> records = phantom_sources(phantom);
  for (std::size_t i = 0; i < records.size(); i += 3) {
    auto load = records[i].load;
    records[i].load = [load] { return SourceImage{load().image, cv::Mat()}; };
  }
  return records;
}

TEST(CacheTest, StreamedBuildWritesTheSameBytesAsTheInMemoryOne) {
  testing::TempDir dir;
  const auto records = partly_labelled_phantom(5);
  ASSERT_GT(records.size(), 6u);
  for (const int bits : {8, 16}) {
    CacheOptions options;
    options.image_size = 24;
    options.bits = bits;
    options.threads = 2;
    write_cache(build_cache(records, options), dir / "memory.bin");
    build_cache_file(records, options, dir / "streamed.bin");
    EXPECT_EQ(common::read_file(dir / "streamed.bin"), common::read_file(dir / "memory.bin"))
        << bits << " bits";
  }
}

// The in-memory build of partly_labelled_phantom(patients) at `size`, written to `file`.
CachedDataset written_phantom(int patients, int size, const std::filesystem::path& file) {
  CacheOptions options;
  options.image_size = size;
  CachedDataset built = build_cache(partly_labelled_phantom(patients), options);
  write_cache(built, file);
  return built;
}

TEST(CacheTest, StreamedReadServesTheStoredPlanes) {
  testing::TempDir dir;
  const CachedDataset built = written_phantom(4, 24, dir / "set.bin");
  const CachedDataset streamed = read_cache(dir / "set.bin", true, CacheResidency::kStream);
  EXPECT_TRUE(streamed.streamed());
  EXPECT_FALSE(built.streamed());
  ASSERT_EQ(streamed.size(), built.size());
  for (std::int64_t i = 0; i < built.size(); ++i) {
    const cv::Mat plane = streamed.image(i);
    ASSERT_EQ(plane.type(), CV_8UC1);
    ASSERT_EQ(plane.rows, 24);
    EXPECT_EQ(cv::norm(built.image(i), plane, cv::NORM_INF), 0.0) << i;
    // Its own storage: a second read does not alias the first.
    EXPECT_NE(streamed.image(i).data, plane.data);
    ASSERT_EQ(streamed.has_labels(i), built.has_labels(i)) << i;
    if (built.has_labels(i)) {
      EXPECT_EQ(cv::norm(built.labels(i), streamed.labels(i), cv::NORM_INF), 0.0) << i;
    }
    EXPECT_EQ(streamed.name(i), built.name(i));
    EXPECT_EQ(streamed.patient_index(i), built.patient_index(i));
  }
  // Copies share the open file.
  const CachedDataset copy = streamed;
  EXPECT_EQ(cv::norm(copy.image(1), built.image(1), cv::NORM_INF), 0.0);
  EXPECT_THROW(streamed.image(built.size()), common::Error);
}

TEST(CacheTest, StreamedPlanesAreVerifiedWhenRead) {
  testing::TempDir dir;
  const std::filesystem::path store = dir / "set.bin";
  const CachedDataset built = written_phantom(2, 16, store);
  // A pixel of the last image: just before the label planes, the checksums and the trailer.
  std::int64_t label_planes = 0;
  for (std::int64_t i = 0; i < built.size(); ++i) label_planes += built.has_labels(i) ? 1 : 0;
  const std::int64_t last = built.size() - 1;
  flip_bit(store, -8 - (built.size() + label_planes + 2) * 4 - label_planes * 16 * 16 - 3);
  // Opening reads the tables and label maps only: it succeeds; so do the intact images.
  const CachedDataset streamed = read_cache(store, true, CacheResidency::kStream);
  EXPECT_EQ(cv::norm(streamed.image(0), built.image(0), cv::NORM_INF), 0.0);
  try {
    streamed.image(last);
    ADD_FAILURE() << "a corrupt plane was served";
  } catch (const ChecksumError& e) {
    EXPECT_NE(std::string(e.what()).find(store.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("image " + std::to_string(last)), std::string::npos)
        << e.what();
  }
  // Unverified, the flipped byte comes through.
  const CachedDataset unverified = read_cache(store, false, CacheResidency::kStream);
  EXPECT_EQ(cv::norm(unverified.image(last), built.image(last), cv::NORM_INF), 16.0);
  // A byte of the last label plane (just before the checksums): its label map fails, named.
  std::int64_t last_labelled = -1;
  for (std::int64_t i = 0; i < built.size(); ++i) {
    if (built.has_labels(i)) last_labelled = i;
  }
  ASSERT_GE(last_labelled, 0);
  flip_bit(store, -8 - (built.size() + label_planes + 2) * 4 - 5);
  const CachedDataset relabelled = read_cache(store, true, CacheResidency::kStream);
  try {
    relabelled.labels(last_labelled);
    ADD_FAILURE() << "a corrupt label plane was served";
  } catch (const ChecksumError& e) {
    EXPECT_NE(std::string(e.what()).find("label map " + std::to_string(label_planes - 1)),
              std::string::npos)
        << e.what();
  }
  // A file cut short under an open stream is an error naming it, not a crash.
  std::filesystem::resize_file(store, 200);
  try {
    streamed.image(last);
    ADD_FAILURE() << "a plane past the end was served";
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(CacheTest, ResidencyAutoStreamsLargeCachesOnly) {
  EXPECT_EQ(resolve_residency(CacheResidency::kAuto, kStreamAboveBytes), CacheResidency::kMemory);
  EXPECT_EQ(resolve_residency(CacheResidency::kAuto, kStreamAboveBytes + 1),
            CacheResidency::kStream);
  EXPECT_EQ(resolve_residency(CacheResidency::kStream, 1), CacheResidency::kStream);
  EXPECT_EQ(resolve_residency(CacheResidency::kMemory, kStreamAboveBytes * 8),
            CacheResidency::kMemory);
  EXPECT_EQ(cache_residency_names().size(), 3u);
  EXPECT_EQ(to_string(CacheResidency::kStream), "stream");
}

TEST(CacheTest, LoadOrBuildStreamsWhenAsked) {
  FileSet files(3);
  const std::filesystem::path store = files.dir / "set.bin";
  CacheOptions options;
  options.image_size = 16;
  options.residency = CacheResidency::kStream;
  CacheOutcome outcome{};
  const CachedDataset built = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kBuilt);
  EXPECT_TRUE(built.streamed());
  const CachedDataset reused = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kReused);
  EXPECT_TRUE(reused.streamed());
  options.residency = CacheResidency::kMemory;
  const CachedDataset held = load_or_build_cache(store, files.records(), options, &outcome);
  EXPECT_EQ(outcome, CacheOutcome::kReused);  // the same file either way
  EXPECT_FALSE(held.streamed());
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(cv::norm(held.image(i), reused.image(i), cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(held.labels(i), built.labels(i), cv::NORM_INF), 0.0);
  }
}

TEST(CacheTest, AReadersMessageNamingTheFileIsNotPrefixedAgain) {
  const auto failing = [](std::string message) {
    return [message]() -> SourceImage { throw common::InputError(message); };
  };
  try {
    build_cache({SourceRecord{"scans/a.png", "p", 0, "a", failing("'scans/a.png': truncated PNG")}},
                CacheOptions{});
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_STREQ(e.what(), "'scans/a.png': truncated PNG");
  }
  // A message about another file (the mask) keeps the image's name in front.
  try {
    build_cache({SourceRecord{"scans/a.png", "p", 0, "a", failing("'masks/a.png': truncated PNG")}},
                CacheOptions{});
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_STREQ(e.what(), "scans/a.png: 'masks/a.png': truncated PNG");
  }
}

}  // namespace
}  // namespace cltci::data
