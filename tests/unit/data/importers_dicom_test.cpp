// DICOM directory and folder-per-patient importers on files written in the real formats.
#include "cltci/build_info.h"
#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/importer.h"
#include "common_test_support.h"
#include "unit/data/data_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using Rows = testing::PatientRows;
using testing::rows_of;

TEST(ImportFolder, OrderByDateInTheFileNameElseByName) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const cv::Mat film(6, 6, CV_16UC1, cv::Scalar(100));
  fs::create_directories(dir / "P01/visit_b");
  fs::create_directories(dir / "P02");
  write_png(dir / "P01/z_2021-01-05.png", film);
  write_png(dir / "P01/visit_b/a_20200301_0930.png", film);
  write_png(dir / "P01/m_20200301.png", film);  // same day, earlier (00:00)
  write_png(dir / "P02/second.png", film);
  write_png(dir / "P02/first_20190101.png", film);  // not every image dated: by name
  fs::create_directories(dir / "P02/notes");
  std::ofstream(dir / "P02/notes/readme.txt") << "not an image";
  ImportOptions options;
  options.kind = "folder";
  options.root = dir.path();
  options.prefix = "bch";
  const ImportResult result = import_dataset(options);
  EXPECT_EQ(rows_of(result.manifest, "bch:P01"),
            (Rows{{"m_20200301.png", 0}, {"a_20200301_0930.png", 1}, {"z_2021-01-05.png", 2}}));
  EXPECT_EQ(rows_of(result.manifest, "bch:P02"),
            (Rows{{"first_20190101.png", 0}, {"second.png", 1}}));
  EXPECT_EQ(result.manifest.rows[1].time, "2020-03-01T09:30:00");
  EXPECT_EQ(result.report.patients, 2U);
  EXPECT_EQ(result.report.patients_with_followups, 2U);
  EXPECT_EQ(result.report.unknown_views, 5U);
}

#if CLTCI_WITH_DICOM

TEST(ImportDicom, GroupsByPatientOrdersByTimeFallbacksAndFiltersLaterals) {
  TempDir dir;
  const cv::Mat film(8, 8, CV_16UC1, cv::Scalar(300));
  fs::create_directories(dir / "a/b");
  DicomWriteOptions o;
  o.monochrome1 = true;
  o.rescale_slope = 2.0;
  o.window_centers = {600, 1200};
  o.window_widths = {200, 400};
  o.patient_id = "P1";
  o.view_position = "PA";
  o.study_date = "20200101";
  o.study_time = "120000";
  o.acquisition_date = "20200301";  // acquisition beats the study date
  o.acquisition_time = "0800";
  o.imager_pixel_spacing = "0.139\\0.143";  // the detector's spacing only
  write_dicom(dir / "a/one.dcm", film, o);
  o.pixel_spacing = "0.2\\0.25";  // PixelSpacing wins over ImagerPixelSpacing
  o.acquisition_date.clear();
  o.acquisition_time.clear();
  o.study_date = "20200201";
  write_dicom(dir / "a/b/IM0002", film, o);  // no extension: found by its DICM magic
  o.view_position = "LL";
  write_dicom(dir / "a/lateral.dcm", film, o);
  o.monochrome1 = false;
  o.view_position.clear();  // unknown view: kept and counted
  o.patient_id = "P2";
  o.study_date = "20190505";
  o.pixel_spacing.clear();
  o.imager_pixel_spacing.clear();  // no spacing at all: unknown
  write_dicom(dir / "p2.dcm", film, o);
  o.modality = "CT";
  write_dicom(dir / "ct.dcm", film, o);
  std::ofstream(dir / "broken.dcm") << "not dicom at all";

  ImportOptions options;
  options.kind = "dicom";
  options.root = dir.path();
  options.allow_skips = true;
  const ImportResult result = import_dataset(options);
  EXPECT_EQ(rows_of(result.manifest, "dicom:P1"), (Rows{{"IM0002", 0}, {"one.dcm", 1}}));
  EXPECT_EQ(rows_of(result.manifest, "dicom:P2"), (Rows{{"p2.dcm", 0}}));
  EXPECT_EQ(result.manifest.rows[0].time, "2020-02-01T12:00:00");
  EXPECT_EQ(result.manifest.rows[1].time, "2020-03-01T08:00:00");
  EXPECT_EQ(result.manifest.rows[0].spacing_row_mm, 0.2);  // IM0002
  EXPECT_EQ(result.manifest.rows[0].spacing_col_mm, 0.25);
  EXPECT_EQ(result.manifest.rows[1].spacing_row_mm, 0.139);  // one.dcm
  EXPECT_EQ(result.manifest.rows[1].spacing_col_mm, 0.143);
  EXPECT_TRUE(std::isnan(result.manifest.rows[2].spacing_row_mm));  // p2.dcm
  EXPECT_EQ(result.report.filtered_views, 2U);                      // the lateral and the CT
  EXPECT_EQ(result.report.unknown_views, 1U);
  ASSERT_EQ(result.report.skipped.size(), 1U);
  EXPECT_EQ(result.report.skipped[0].file, dir / "broken.dcm");
  EXPECT_EQ(result.report.patients_with_followups, 1U);

  options.allow_skips = false;
  try {
    import_dataset(options);
    ADD_FAILURE() << "a corrupt file without allow_skips must be an error";
  } catch (const common::InputError& e) {
    ASSERT_EQ(e.problems().size(), 1U);
    EXPECT_EQ(e.problems()[0].rfind("'" + (dir / "broken.dcm").string() + "': ", 0), 0U);
  }
}

#endif  // CLTCI_WITH_DICOM

}  // namespace
}  // namespace cltci::data
