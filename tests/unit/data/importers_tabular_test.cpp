// NIH ChestX-ray14, CheXpert and MIMIC-CXR-JPG: metadata CSVs in their real shapes.
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/importer.h"
#include "common_test_support.h"
#include "unit/data/data_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

namespace fs = std::filesystem;
using testing::problems_of;
using testing::TempDir;
using testing::touch_png;

void touch_jpg(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::vector<unsigned char> bytes;
  cv::imencode(".jpg", cv::Mat(4, 4, CV_8UC1, cv::Scalar(9)), bytes);
  common::write_file_atomic(file, std::string(reinterpret_cast<char*>(bytes.data()), bytes.size()));
}

using Rows = testing::PatientRows;
using testing::rows_of;

TEST(ImportNih, V2020OrdersByFollowUpNotByFileName) {
  TempDir dir;
  for (const char* name :
       {"00000001_000.png", "00000001_001.png", "00000001_002.png", "00000002_000.png"}) {
    touch_png(dir / "images_001" / "images" / name, 4, 4);
  }
  // Follow-ups run against the file-name index for patient 1 (datasets.md §5.1).
  common::write_file_atomic(
      dir / "Data_Entry_2017_v2020.csv",
      "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View "
      "Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]\n"
      "00000001_000.png,Cardiomegaly,2,1,58,M,PA,2682,2749,0.143,0.143\n"
      "00000001_001.png,No Finding,0,1,57,M,PA,2894,2729,0.143,0.143\n"
      "00000001_002.png,Effusion,1,1,57,M,AP,2500,2048,0.168,0.168\n"
      "00000002_000.png,No Finding,0,2,81,M,PA,2500,2048,0.171,0.171\n");
  ImportOptions options;
  options.kind = "nih";
  options.root = dir.path();
  const ImportResult result = import_dataset(options);
  EXPECT_EQ(rows_of(result.manifest, "nih:00000001"),
            (Rows{{"00000001_001.png", 0}, {"00000001_002.png", 1}, {"00000001_000.png", 2}}));
  EXPECT_EQ(result.manifest.rows[1].view, "AP");
  // The PNGs here are 4 x 4: spacing = the original's x original size / PNG size, per axis.
  EXPECT_DOUBLE_EQ(result.manifest.rows[1].spacing_col_mm, 0.168 * 2500 / 4);
  EXPECT_DOUBLE_EQ(result.manifest.rows[1].spacing_row_mm, 0.168 * 2048 / 4);
  EXPECT_DOUBLE_EQ(result.manifest.rows[0].spacing_col_mm, 0.143 * 2894 / 4);
  EXPECT_EQ(result.report.images, 4U);
  EXPECT_EQ(result.report.patients, 2U);
  EXPECT_EQ(result.report.patients_with_followups, 1U);
  EXPECT_EQ(result.report.to_text(),
            "images: 4\npatients: 2\npatients with >= 2 time points: 1\nlabelled images: 0\n"
            "left out by the view filter: 0\nkept with an unknown view: 0\nskipped files: 0\n");
}

TEST(ImportNih, Version2017WithPaddedFieldsAndTrailingColumn) {
  TempDir dir;
  touch_png(dir / "images" / "00000003_000.png");
  touch_png(dir / "images" / "00000003_001.png");
  common::write_file_atomic(
      dir / "Data_Entry_2017.csv",
      "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View "
      "Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n"
      "00000003_000.png,Hernia,001,00000003,074Y,F,PA,2500,2048,0.168,0.168,\n"
      "00000003_001.png,Hernia,000,00000003,074Y,F,PA,2500,2048,0.168,0.168,\n"
      "00000004_000.png,Mass,000,00000004,082Y,M,AP,2500,2048,0.168,0.168,\n");
  ImportOptions options;
  options.kind = "nih";
  options.root = dir.path();
  // 00000004_000.png is listed but not there: an error naming the CSV line...
  EXPECT_EQ(
      problems_of([&] { import_dataset(options); }),
      (std::vector<std::string>{"Data_Entry_2017.csv:4: '" + (dir / "00000004_000.png").string() +
                                "': image listed in the CSV not found under the root"}));
  // ...or a listed skip when allowed.
  options.allow_skips = true;
  const ImportResult result = import_dataset(options);
  EXPECT_EQ(rows_of(result.manifest, "nih:00000003"),
            (Rows{{"00000003_001.png", 0}, {"00000003_000.png", 1}}));
  ASSERT_EQ(result.report.skipped.size(), 1U);
  EXPECT_EQ(result.report.skipped[0].reason,
            "Data_Entry_2017.csv:4: image listed in the CSV not found under the root");
}

TEST(ImportCheXpert, PatientAndStudyFromThePathAndFrontalFilter) {
  TempDir dir;
  const fs::path root = dir / "CheXpert-v1.0-small";
  touch_jpg(root / "train/patient00001/study1/view1_frontal.jpg");
  touch_jpg(root / "train/patient00001/study2/view1_frontal.jpg");
  touch_jpg(root / "train/patient00001/study2/view2_lateral.jpg");
  touch_jpg(root / "train/patient00002/study1/view1_frontal.jpg");
  common::write_file_atomic(
      root / "train.csv",
      "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,"
      "Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural "
      "Effusion,Pleural Other,Fracture,Support Devices\n"
      "CheXpert-v1.0-small/train/patient00001/study2/view2_lateral.jpg,Female,68,Lateral,,1.0,,,,,,"
      ",,,0.0,,,,1.0\n"
      "CheXpert-v1.0-small/train/patient00001/study2/view1_frontal.jpg,Female,68,Frontal,AP,1.0,,,"
      ",,,,,,0.0,,,,1.0\n"
      "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,67,Frontal,PA,,,,,"
      ",-1.0,,,,,,,,\n"
      "CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg,Male,87,Frontal,AP,,,,,,"
      ",,,,,,,,\n");
  ImportOptions options;
  options.kind = "chexpert";
  options.root = root;
  ImportResult result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 3U);
  EXPECT_EQ(result.manifest.rows[0].patient_id, "chexpert:00001");
  EXPECT_EQ(result.manifest.rows[0].study, "chexpert:00001/study1");
  EXPECT_EQ(result.manifest.rows[0].view, "PA");
  EXPECT_EQ(result.manifest.rows[1].study, "chexpert:00001/study2");
  EXPECT_EQ(result.manifest.rows[1].order, 1);
  EXPECT_EQ(result.manifest.rows[1].view, "AP");
  EXPECT_EQ(result.report.filtered_views, 1U);
  EXPECT_EQ(result.report.patients_with_followups, 1U);

  options.frontal_only = false;
  result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 4U);
  // The lateral of study 2 shares its time point.
  EXPECT_EQ(rows_of(result.manifest, "chexpert:00001"),
            (Rows{{"view1_frontal.jpg", 0}, {"view1_frontal.jpg", 1}, {"view2_lateral.jpg", 1}}));
  EXPECT_EQ(result.manifest.rows[2].view, "LAT");
}

TEST(ImportMimic, StudyTimeIsZeroPaddedAndViewFallsBackToTheCode) {
  TempDir dir;
  const std::string a = "02aa804e-bde0afdd-112c0b34-7bc16630-4e384014";
  const std::string b = "174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962";
  const std::string c = "2a2277a9-b0ded155-c0de8eb9-c124d10e-82c5caab";
  const std::string d = "68b5c4b1-227d0485-9cc38c3f-7b84ab51-4b472714";
  touch_jpg(dir / "files/p10/p10000032/s50414267" / (a + ".jpg"));
  touch_jpg(dir / "files/p10/p10000032/s53189527" / (b + ".jpg"));
  touch_jpg(dir / "files/p10/p10000032/s53189527" / (c + ".jpg"));
  touch_jpg(dir / "files/p10/p10000032/s53911762" / (d + ".jpg"));
  common::write_file_atomic(
      dir / "mimic-cxr-2.0.0-metadata.csv",
      "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,"
      "StudyDate,StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,"
      "PatientOrientationCodeSequence_CodeMeaning\n" +
          // Same day: 08:33:14 (written 83314.0) comes before 10:15:00.
          a +
          ",10000032,50414267,CHEST (PA AND LAT),PA,3056,2544,21800506,101500.0,CHEST,"
          "postero-anterior,Erect\n" +
          b +
          ",10000032,53189527,CHEST (PA AND LAT),,3056,2544,21800506,83314.0,CHEST,"
          "postero-anterior,Erect\n" +
          c +
          ",10000032,53189527,CHEST (PA AND LAT),LATERAL,3056,2544,21800506,83314.0,CHEST,"
          "lateral,Erect\n" +
          d +
          ",10000032,53911762,CHEST (PORTABLE AP),AP,2705,2539,21800626,165500.0,CHEST,"
          "antero-posterior,\n");
  common::write_file_atomic(dir / "mimic-cxr-2.0.0-split.csv",
                            "dicom_id,study_id,subject_id,split\n" + a +
                                ",50414267,10000032,validate\n" + b +
                                ",53189527,10000032,validate\n");
  ImportOptions options;
  options.kind = "mimic";
  options.root = dir.path();
  // Split covers only some images: the patient ends up in two splits, which validation refuses.
  const std::vector<std::string> problems = problems_of([&] { import_dataset(options); });
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_NE(problems[0].find("patient 'mimic:10000032' is in split '(none)' but in split 'val'"),
            std::string::npos)
      << problems[0];

  common::write_file_atomic(dir / "mimic-cxr-2.0.0-split.csv",
                            "dicom_id,study_id,subject_id,split\n" + a + ",1,1,validate\n" + b +
                                ",1,1,validate\n" + c + ",1,1,validate\n" + d + ",1,1,validate\n");
  const ImportResult result = import_dataset(options);
  ASSERT_EQ(result.manifest.rows.size(), 3U);
  EXPECT_EQ(result.report.filtered_views, 1U);
  EXPECT_EQ(result.manifest.rows[0].path.stem().string(), b);
  EXPECT_EQ(result.manifest.rows[0].time, "2180-05-06T08:33:14");
  EXPECT_EQ(result.manifest.rows[0].view, "PA");
  EXPECT_EQ(result.manifest.rows[0].split, "val");
  EXPECT_EQ(result.manifest.rows[1].path.stem().string(), a);
  EXPECT_EQ(result.manifest.rows[1].time, "2180-05-06T10:15:00");
  EXPECT_EQ(result.manifest.rows[1].order, 1);
  EXPECT_EQ(result.manifest.rows[2].time, "2180-06-26T16:55:00");
  EXPECT_EQ(result.manifest.rows[2].order, 2);
  EXPECT_EQ(result.manifest.rows[2].study, "mimic:53911762");
}

TEST(ImportDataset, UnknownKindAndMissingRoot) {
  TempDir dir;
  ImportOptions options;
  options.kind = "padchest";
  options.root = dir.path();
  EXPECT_EQ(problems_of([&] { import_dataset(options); }),
            (std::vector<std::string>{"unknown importer 'padchest' (known: folder, jsrt, "
                                      "montgomery, shenzhen, nih, chexpert, mimic, dicom)"}));
  options.kind = "nih";
  EXPECT_EQ(problems_of([&] { import_dataset(options); }),
            (std::vector<std::string>{"metadata CSV not found (looked for '" +
                                      (dir / "Data_Entry_2017_v2020.csv").string() + "', '" +
                                      (dir / "Data_Entry_2017.csv").string() + "')"}));
}

}  // namespace
}  // namespace cltci::data
