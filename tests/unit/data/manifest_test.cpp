#include "cltci/data/manifest.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/dataset_from_manifest.h"
#include "cltci/data/image_writers.h"
#include "common_test_support.h"
#include "unit/data/data_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {
namespace {

using testing::problems_of;
using testing::TempDir;
using testing::touch_png;

TEST(Manifest, SaveAndLoadRoundTripWithQuotedFields) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a, b.png");
  touch_png(dir / "c.png");
  touch_png(dir / "labels.png");
  Manifest manifest;
  ManifestRow first;
  first.path = dir / "a, b.png";
  first.patient_id = "site:\"7\"";
  first.order = 0;
  first.time = "2021-03-04T09:30:00";
  first.view = "PA";
  first.mask = dir / "labels.png";
  first.split = "train";
  ManifestRow second;
  second.path = dir / "c.png";
  second.patient_id = "site:\"7\"";
  second.order = 1;
  second.time = "2021-05-01T10:00:00";
  second.view = "AP";
  second.split = "train";
  second.study = "s2";
  second.spacing_row_mm = 0.175;
  second.spacing_col_mm = 0.1425;
  manifest.rows = {first, second};
  save_manifest(manifest, dir / "m.csv");

  const std::string text = common::read_file(dir / "m.csv");
  EXPECT_EQ(text,
            "path,patient_id,order,time,view,mask,left_mask,right_mask,split,study,"
            "spacing_row_mm,spacing_col_mm\n"
            "\"a, b.png\",\"site:\"\"7\"\"\",0,2021-03-04T09:30:00,PA,labels.png,,,train,,,\n"
            "c.png,\"site:\"\"7\"\"\",1,2021-05-01T10:00:00,AP,,,,train,s2,0.175,0.1425\n");
  const Manifest loaded = load_manifest(dir / "m.csv");
  ASSERT_EQ(loaded.rows.size(), 2U);
  EXPECT_EQ(loaded.rows[0].path, (dir / "a, b.png").lexically_normal());
  EXPECT_EQ(loaded.rows[0].patient_id, "site:\"7\"");
  EXPECT_EQ(loaded.rows[0].mask, (dir / "labels.png").lexically_normal());
  EXPECT_EQ(loaded.rows[0].line, 2);
  EXPECT_EQ(loaded.rows[1].order, 1);
  EXPECT_EQ(loaded.rows[1].view, "AP");
  EXPECT_EQ(loaded.rows[1].study, "s2");
  EXPECT_EQ(loaded.rows[1].line, 3);
  EXPECT_TRUE(std::isnan(loaded.rows[0].spacing_row_mm) &&
              std::isnan(loaded.rows[0].spacing_col_mm));
  EXPECT_EQ(loaded.rows[1].spacing_row_mm, 0.175);
  EXPECT_EQ(loaded.rows[1].spacing_col_mm, 0.1425);
}

TEST(Manifest, PixelSpacingMustBeTwoPositiveNumbersOrNone) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  for (const char* name : {"a.png", "b.png", "c.png", "d.png"}) touch_png(dir / name);
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,spacing_row_mm,spacing_col_mm\n"
                            "a.png,p,0.2,0.2\n"
                            "b.png,p,-1,0.2\n"
                            "c.png,p,0.2,\n"
                            "d.png,p,0.2,1mm\n");
  const std::string file = (dir / "m.csv").string();
  EXPECT_EQ(problems_of([&] { load_manifest(dir / "m.csv"); }),
            (std::vector<std::string>{
                file + ":3: spacing_row_mm '-1' is not a pixel spacing in mm (a number > 0)",
                file + ":4: give both spacing_row_mm and spacing_col_mm, or neither",
                file + ":5: spacing_col_mm '1mm' is not a pixel spacing in mm (a number > 0)"}));
}

TEST(Manifest, ColumnsInAnyOrderAndOrderFromTime) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "x.png");
  touch_png(dir / "y.png");
  common::write_file_atomic(dir / "m.csv",
                            "time,patient_id,path\r\n"
                            "2020-02-01,p,x.png\r\n"
                            "2020-01-01T08:00,p,y.png\r\n");
  const Manifest loaded = load_manifest(dir / "m.csv");
  ASSERT_EQ(loaded.rows.size(), 2U);
  EXPECT_EQ(loaded.rows[0].order, 1);  // x is the later one
  EXPECT_EQ(loaded.rows[1].order, 0);
}

TEST(Manifest, UnknownColumnAndMissingRequiredOneAreNamed) {
  TempDir dir;
  common::write_file_atomic(dir / "m.csv", "path,patient,order\nx.png,p,0\n");
  const std::string file = (dir / "m.csv").string();
  EXPECT_EQ(problems_of([&] { load_manifest(dir / "m.csv"); }),
            (std::vector<std::string>{
                file + ":1: unknown column 'patient' (known: path, patient_id, order, time, view, "
                       "mask, left_mask, right_mask, split, study, spacing_row_mm, "
                       "spacing_col_mm)",
                file + ":1: header lacks the required column 'patient_id'"}));
}

TEST(Manifest, EveryProblemIsOneLineNamingFileAndRow) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a.png", 8, 8);
  touch_png(dir / "b.png", 8, 8);
  touch_png(dir / "c.png", 8, 8);
  cv::Mat bad_mask = cv::Mat::zeros(8, 8, CV_8UC1);
  bad_mask.at<unsigned char>(2, 2) = 7;
  bad_mask.at<unsigned char>(3, 3) = 1;
  write_png(dir / "bad_mask.png", bad_mask);
  touch_png(dir / "wide_mask.png", 16, 8, 2);
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,mask,split\n"
                            "a.png,p1,0,bad_mask.png,train\n"    // line 2: value 7
                            "missing.png,p2,0,,train\n"          // line 3: no file
                            "a.png,p1,1,,train\n"                // line 4: duplicate
                            "b.png,p1,2,,test\n"                 // line 5: two splits
                            "c.png,p3,x,wide_mask.png,test\n");  // line 6: order, aspect
  const std::string file = (dir / "m.csv").string();
  ManifestCheck check;
  check.mask_values = true;
  EXPECT_EQ(problems_of([&] { load_manifest(dir / "m.csv", check); }),
            (std::vector<std::string>{
                file + ":6: order 'x' is not a non-negative integer",
                file + ":2: mask 'bad_mask.png' has value 7 (allowed: 0, 1, 2, 255)",
                file + ":3: image 'missing.png' does not exist",
                file + ":4: image 'a.png' already listed on line 2",
                file + ":5: patient 'p1' is in split 'test' but in split 'train' on line 2",
                file + ":6: mask 'wide_mask.png' is 16x8 but image 'c.png' is 8x8 (aspect "
                       "ratios differ)"}));
}

TEST(Manifest, AZeroByteFileIsFoundByTheCheck) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a.png", 8, 8);
  common::write_file_atomic(dir / "b.png", "");
  common::write_file_atomic(dir / "b_mask.png", "");
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,mask\n"
                            "a.png,p1,0,b_mask.png\n"
                            "b.png,p1,1,\n");
  EXPECT_EQ(problems_of([&] { load_manifest(dir / "m.csv"); }),
            (std::vector<std::string>{
                (dir / "m.csv").string() + ":2: mask 'b_mask.png' is empty (0 bytes)",
                (dir / "m.csv").string() + ":3: image 'b.png' is empty (0 bytes)"}));
}

TEST(Manifest, AFolderGivenAsAFileIsCalledAFolder) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a.png", 8, 8);
  std::filesystem::create_directories(dir / "masks");
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,mask\n"
                            "a.png,p1,0,masks\n");
  EXPECT_EQ(
      problems_of([&] { load_manifest(dir / "m.csv"); }),
      (std::vector<std::string>{(dir / "m.csv").string() + ":2: mask 'masks' is a directory"}));
}

TEST(Manifest, ABadMaskMetWhileLoadingNamesTheMaskAndTheManifestLine) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a.png", 8, 8);
  touch_png(dir / "c.png", 8, 8);
  cv::Mat bad_mask = cv::Mat::zeros(8, 8, CV_8UC1);
  bad_mask.at<unsigned char>(2, 2) = 7;
  write_png(dir / "bad_mask.png", bad_mask);
  touch_png(dir / "wide_mask.png", 16, 8, 2);
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,mask\n"
                            "a.png,p1,0,bad_mask.png\n"
                            "c.png,p2,0,wide_mask.png\n");
  const auto records = manifest_sources(load_manifest(dir / "m.csv"));  // masks not decoded yet
  ASSERT_EQ(records.size(), 2U);
  const std::string file = (dir / "m.csv").string();
  EXPECT_EQ(problems_of([&] { records[0].load(); }),
            (std::vector<std::string>{file + ":2: mask " + (dir / "bad_mask.png").string() +
                                      " has value 7 (allowed: 0, 1, 2, 255)"}));
  EXPECT_EQ(problems_of([&] { records[1].load(); }),
            (std::vector<std::string>{file + ":3: mask " + (dir / "wide_mask.png").string() +
                                      " is 16x8 but the image is 8x8 (aspect ratios differ)"}));
}

TEST(Manifest, OrderMustAgreeWithTime) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  touch_png(dir / "a.png");
  touch_png(dir / "b.png");
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,time\n"
                            "a.png,p,0,2020-05-01T00:00:00\n"
                            "b.png,p,1,2020-01-01T00:00:00\n");
  const std::string file = (dir / "m.csv").string();
  EXPECT_EQ(problems_of([&] { load_manifest(dir / "m.csv"); }),
            (std::vector<std::string>{file + ":3: patient 'p': order 1 has time "
                                             "2020-01-01T00:00:00, earlier than order 0 "
                                             "(2020-05-01T00:00:00) on line 2"}));
}

TEST(Manifest, WrongFieldCountAndUnterminatedQuote) {
  TempDir dir;
  common::write_file_atomic(dir / "m.csv", "path,patient_id\na.png\n");
  EXPECT_EQ(
      problems_of([&] {
        load_manifest(dir / "m.csv", {false, false});
      }),
      (std::vector<std::string>{(dir / "m.csv").string() + ":2: 1 fields, the header has 2"}));
  common::write_file_atomic(dir / "q.csv", "path,patient_id\n\"a.png,p\n");
  EXPECT_EQ(problems_of([&] {
              load_manifest(dir / "q.csv", {false, false});
            }),
            (std::vector<std::string>{(dir / "q.csv").string() + ":2: unterminated quote"}));
}

}  // namespace
}  // namespace cltci::data
