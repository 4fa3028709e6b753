// `prepare` as library calls: output-folder safety, import outputs, manifest check messages.
#include "cltci/run/prepare.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/manifest.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

namespace cltci::run {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string first_problem(const std::function<void()>& body) {
  try {
    body();
  } catch (const common::InputError& e) {
    return e.problems().at(0);
  }
  return "(no InputError)";
}

PreparePhantomOptions tiny_phantom(const fs::path& output) {
  PreparePhantomOptions o;
  o.output = output;
  o.phantom.patients = 3;
  o.phantom.min_images = 2;
  o.phantom.max_images = 3;
  o.phantom.width = 48;
  o.phantom.height = 40;
  return o;
}

TEST(Prepare, PhantomThenImportWritesManifestReportAndPrintsTheCounts) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  std::ostringstream printed;
  const PreparePhantomOptions phantom = tiny_phantom(dir / "phantom");
  ASSERT_EQ(prepare_phantom(phantom, printed), 0);
  const std::size_t images = data::phantom_plan(phantom.phantom).size();
  EXPECT_NE(printed.str().find("wrote " + std::to_string(images) + " images of 3 phantom"),
            std::string::npos)
      << printed.str();

  PrepareImportOptions import;
  import.import.kind = "folder";
  import.import.root = dir / "phantom" / "images";
  import.import.output_dir = dir / "imported";
  std::ostringstream report;
  ASSERT_EQ(prepare_import(import, report), 0);
  EXPECT_NE(report.str().find("images: " + std::to_string(images) + "\npatients: 3\n" +
                              "patients with >= 2 time points: 3\n"),
            std::string::npos)
      << report.str();
  const data::Manifest manifest = data::load_manifest(dir / "imported" / "manifest.csv");
  EXPECT_EQ(manifest.rows.size(), images);
  EXPECT_EQ(manifest.rows.front().patient_id, "folder:p0000");
  EXPECT_EQ(common::read_file(dir / "imported" / "import_report.txt").substr(0, 8), "images: ");

  std::ostringstream checked;
  PrepareCheckOptions check;
  check.manifest = dir / "phantom" / "manifest.csv";
  check.masks = true;
  ASSERT_EQ(prepare_check(check, checked), 0);
  EXPECT_NE(checked.str().find(": OK: " + std::to_string(images) + " images, 3 patients, 3 with "),
            std::string::npos)
      << checked.str();
}

TEST(Prepare, RefusesNonEmptyOutputAndOverwritesOnlyItsOwn) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  std::ostringstream out;
  ASSERT_EQ(prepare_phantom(tiny_phantom(dir / "p"), out), 0);
  EXPECT_EQ(first_problem([&] { prepare_phantom(tiny_phantom(dir / "p"), out); }),
            "'" + (dir / "p").string() +
                "': output folder is not empty (pass --overwrite to replace an earlier prepare "
                "output)");

  // With --overwrite an earlier prepare output is replaced, stale files included.
  common::write_file_atomic(dir / "p" / "stale.txt", "old");
  PreparePhantomOptions again = tiny_phantom(dir / "p");
  again.overwrite = true;
  ASSERT_EQ(prepare_phantom(again, out), 0);
  EXPECT_FALSE(fs::exists(dir / "p" / "stale.txt"));
  EXPECT_TRUE(fs::exists(dir / "p" / "manifest.csv"));

  // A folder prepare did not write is never deleted, --overwrite or not.
  common::write_file_atomic(dir / "mine" / "thesis.tex", "precious");
  PreparePhantomOptions foreign = tiny_phantom(dir / "mine");
  foreign.overwrite = true;
  EXPECT_NE(first_problem([&] { prepare_phantom(foreign, out); }).find("--overwrite refused"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "mine" / "thesis.tex"));
}

TEST(Prepare, MissingRootNamesItAndCreatesNoOutput) {
  TempDir dir;
  PrepareImportOptions import;
  import.import.kind = "montgomery";
  import.import.root = dir / "nowhere";
  import.import.output_dir = dir / "out";
  std::ostringstream out;
  EXPECT_EQ(first_problem([&] { prepare_import(import, out); }),
            "'" + (dir / "nowhere").string() + "': data set folder not found");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, FailedImportRemovesTheOutputFolderItCreated) {
  TempDir dir;
  fs::create_directories(dir / "empty_set");
  PrepareImportOptions import;
  import.import.kind = "jsrt";
  import.import.root = dir / "empty_set";
  import.import.output_dir = dir / "out";
  std::ostringstream out;
  EXPECT_NE(first_problem([&] { prepare_import(import, out); }).find("no JSRT .IMG files found"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, AFolderWithoutImagesIsRefusedAndLeavesNoManifest) {
  TempDir dir;
  fs::create_directories(dir / "patients" / "p1");
  common::write_file_atomic(dir / "patients" / "p1" / "notes.txt", "no image here");
  PrepareImportOptions import;
  import.import.kind = "folder";
  import.import.root = dir / "patients";
  import.import.output_dir = dir / "out";
  std::ostringstream out;
  EXPECT_EQ(first_problem([&] { prepare_import(import, out); }),
            "no images found under " + (dir / "patients").string() + " (folder importer)");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, CheckReportsAMaskValueWithFileAndLine) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  data::write_png(dir / "a.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(100)));
  cv::Mat mask(8, 8, CV_8UC1, cv::Scalar(0));
  mask.at<unsigned char>(3, 3) = 7;
  data::write_png(dir / "a_mask.png", mask);
  common::write_file_atomic(dir / "m.csv", "path,patient_id,mask\na.png,x:1,a_mask.png\n");
  PrepareCheckOptions check;
  check.manifest = dir / "m.csv";
  std::ostringstream out;
  ASSERT_EQ(prepare_check(check, out), 0);  // values are only decoded with --masks
  check.masks = true;
  EXPECT_EQ(first_problem([&] { prepare_check(check, out); }),
            (dir / "m.csv").string() + ":2: mask 'a_mask.png' has value 7 (allowed: 0, 1, 2, 255)");
}

}  // namespace
}  // namespace cltci::run
