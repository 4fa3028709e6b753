// JSRT + SCR, Montgomery and Shenzhen: images and lung masks in their real formats and layouts.
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/importer.h"
#include "cltci/data/lung_masks.h"
#include "common_test_support.h"
#include "unit/data/data_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {
namespace {

namespace fs = std::filesystem;
using testing::problems_of;
using testing::TempDir;

// Two lungs as ellipses; the patient's left lung is on the image RIGHT (larger x).
struct Lungs {
  cv::Mat left;
  cv::Mat right;
};

Lungs draw_lungs(int width, int height) {
  Lungs lungs{cv::Mat::zeros(height, width, CV_8UC1), cv::Mat::zeros(height, width, CV_8UC1)};
  const cv::Size axes(width / 8, height / 4);
  cv::ellipse(lungs.left, {width * 3 / 4, height / 2}, axes, 0, 0, 360, cv::Scalar(255),
              cv::FILLED);
  cv::ellipse(lungs.right, {width / 4, height / 2}, axes, 0, 0, 360, cv::Scalar(255), cv::FILLED);
  return lungs;
}

void write_jsrt_case(const fs::path& root,
                     const std::string& stem,
                     const std::string& fold,
                     bool swapped = false) {
  fs::create_directories(root / "images");
  write_jsrt_img(root / "images" / (stem + ".IMG"),
                 cv::Mat(2048, 2048, CV_16UC1, cv::Scalar(3000)));
  const Lungs lungs = draw_lungs(1024, 1024);
  const fs::path masks = root / "scratch" / fold / "masks";
  fs::create_directories(masks / "left lung");
  fs::create_directories(masks / "right lung");
  write_gif_mask(masks / "left lung" / (stem + ".gif"), swapped ? lungs.right : lungs.left);
  write_gif_mask(masks / "right lung" / (stem + ".gif"), swapped ? lungs.left : lungs.right);
}

TEST(ImportJsrt, ScrGifMasksBecomeALabelMapAndTheFoldASplit) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  write_jsrt_case(dir / "data", "JPCLN001", "fold1");
  write_jsrt_case(dir / "data", "JPCNN002", "fold2");
  ImportOptions options;
  options.kind = "jsrt";
  options.root = dir / "data";
  options.output_dir = dir / "out";
  const ImportResult result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 2U);
  const ManifestRow& row = result.manifest.rows[0];
  EXPECT_EQ(row.patient_id, "jsrt:JPCLN001");
  EXPECT_EQ(row.split, "fold1");
  EXPECT_EQ(row.view, "PA");
  EXPECT_EQ(result.manifest.rows[1].split, "fold2");
  EXPECT_EQ(row.spacing_row_mm, 0.175);  // the JSRT films' digitisation
  EXPECT_EQ(row.spacing_col_mm, 0.175);
  ASSERT_EQ(row.mask, fs::absolute(dir / "out" / "masks" / "JPCLN001.png").lexically_normal());
  const cv::Mat labels = read_mask(row.mask);
  ASSERT_EQ(labels.size(), cv::Size(1024, 1024));
  EXPECT_EQ(labels.at<unsigned char>(512, 768), 1);  // patient's left lung: image right
  EXPECT_EQ(labels.at<unsigned char>(512, 256), 2);
  EXPECT_EQ(labels.at<unsigned char>(10, 10), 0);
  EXPECT_EQ(result.report.labelled, 2U);
  // The label map passes the manifest's value and aspect checks against the 2048 film.
  ManifestCheck check;
  check.mask_values = true;
  EXPECT_TRUE(validate_manifest(result.manifest, check).empty());
}

TEST(ImportJsrt, SwappedSidesAreRefusedOrFixed) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  write_jsrt_case(dir / "data", "JPCLN003", "fold1", /*swapped=*/true);
  ImportOptions options;
  options.kind = "jsrt";
  options.root = dir / "data";
  options.output_dir = dir / "out";
  const fs::path left = dir / "data/scratch/fold1/masks/left lung/JPCLN003.gif";
  EXPECT_EQ(problems_of([&] { import_dataset(options); }),
            (std::vector<std::string>{
                "'" + left.string() +
                "': the left-lung mask lies on the image's left of the right-lung mask (the "
                "patient's left lung is on the image right in a PA view); set swapped sides to "
                "'fix' to swap them"}));
  options.swapped_sides = SwappedSides::kFix;
  const ImportResult result = import_dataset(options);
  ASSERT_EQ(result.report.warnings.size(), 1U);
  const cv::Mat labels = read_mask(result.manifest.rows.at(0).mask);
  EXPECT_EQ(labels.at<unsigned char>(512, 768), 1);
  EXPECT_EQ(labels.at<unsigned char>(512, 256), 2);
}

TEST(ImportMontgomery, LeftAndRightMasksWithoutOutputDirStayAsColumns) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const fs::path top = dir / "MontgomerySet";
  fs::create_directories(top / "CXR_png");
  fs::create_directories(top / "ManualMask/leftMask");
  fs::create_directories(top / "ManualMask/rightMask");
  cv::Mat film(120, 100, CV_16UC1, cv::Scalar(1000));
  write_png(top / "CXR_png/MCUCXR_0001_0.png", film);
  write_png(top / "CXR_png/MCUCXR_0104_1.png", film);
  const Lungs lungs = draw_lungs(100, 120);
  write_png(top / "ManualMask/leftMask/MCUCXR_0001_0.png", lungs.left);
  write_png(top / "ManualMask/rightMask/MCUCXR_0001_0.png", lungs.right);
  ImportOptions options;
  options.kind = "montgomery";
  options.root = dir.path();  // the set's own folder is found inside
  const ImportResult result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 2U);
  EXPECT_EQ(result.manifest.rows[0].patient_id, "montgomery:MCUCXR_0001");
  EXPECT_EQ(result.manifest.rows[0].spacing_row_mm, 0.0875);
  EXPECT_EQ(result.manifest.rows[1].spacing_col_mm, 0.0875);
  EXPECT_EQ(result.manifest.rows[0].left_mask.filename(), "MCUCXR_0001_0.png");
  EXPECT_EQ(result.manifest.rows[0].left_mask.parent_path().filename(), "leftMask");
  EXPECT_TRUE(result.manifest.rows[0].has_labels());
  EXPECT_FALSE(result.manifest.rows[1].has_labels());
  EXPECT_EQ(result.report.labelled, 1U);
  const DecodedImage image = read_image(result.manifest.rows[0].path);
  EXPECT_EQ(image.bits, 16);
  EXPECT_FLOAT_EQ(image.pixels.at<float>(0, 0), 1000.0F / 65535.0F);
}

TEST(ImportShenzhen, OneMaskForBothLungsIsSplitByComponents) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const fs::path top = dir / "ChinaSet_AllFiles";
  fs::create_directories(top / "CXR_png");
  fs::create_directories(dir / "masks");
  write_png(top / "CXR_png/CHNCXR_0001_0.png", cv::Mat(80, 80, CV_8UC1, cv::Scalar(5)));
  const Lungs lungs = draw_lungs(80, 80);
  write_png(dir / "masks/CHNCXR_0001_0_mask.png", lungs.left | lungs.right);
  ImportOptions options;
  options.kind = "shenzhen";
  options.root = dir.path();
  options.output_dir = dir / "out";
  const ImportResult result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 1U);
  EXPECT_EQ(result.manifest.rows[0].patient_id, "shenzhen:CHNCXR_0001");
  const cv::Mat labels = read_mask(result.manifest.rows[0].mask);
  EXPECT_EQ(labels.at<unsigned char>(40, 60), 1);
  EXPECT_EQ(labels.at<unsigned char>(40, 20), 2);
  ASSERT_EQ(result.report.warnings.size(), 1U);
  EXPECT_NE(result.report.warnings[0].find("derived"), std::string::npos);
}

TEST(ImportLungMasks, OverlapIsIgnoredAndSidesByCentroid) {
  cv::Mat left = cv::Mat::zeros(4, 6, CV_8UC1);
  cv::Mat right = cv::Mat::zeros(4, 6, CV_8UC1);
  left(cv::Rect(3, 0, 3, 4)).setTo(1);
  right(cv::Rect(0, 0, 4, 4)).setTo(255);
  const LungLabelMap map = combine_lung_masks(left, right);
  EXPECT_EQ(map.overlap, 4U);
  EXPECT_EQ(map.labels.at<unsigned char>(0, 3), 255);
  EXPECT_EQ(map.labels.at<unsigned char>(0, 5), 1);
  EXPECT_EQ(map.labels.at<unsigned char>(0, 0), 2);
  EXPECT_FALSE(lung_sides_swapped(left, right));
  EXPECT_TRUE(lung_sides_swapped(right, left));
  EXPECT_FALSE(lung_sides_swapped(cv::Mat::zeros(4, 6, CV_8UC1), right));
}

}  // namespace
}  // namespace cltci::data
