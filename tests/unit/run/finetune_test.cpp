#include "cltci/run/finetune.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/config/evaluate_config.h"
#include "cltci/config/finetune_config.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/phantom.h"
#include "cltci/models/weights_io.h"
#include "cltci/run/bridges.h"
#include "cltci/run/evaluate.h"
#include "cltci/run/finetune_cells.h"
#include "cltci/run/pretrain.h"
#include "cltci/run/segmentation_model.h"
#include "common_test_support.h"
#include "finetune_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

/// A small phantom fine-tuning config writing under `dir` (12 patients, 32 px, tiny U-Net).
config::FinetuneConfig small_config(const testing::TempDir& dir,
                                    std::vector<std::string> extra = {}) {
  return testing_support::small_finetune_config(dir, "[2, 4]", std::move(extra));
}

/// A fresh 32 px U-Net (base 4, depth 2) saved as a segmentation model.
void save_tiny_model(const std::filesystem::path& file) {
  SegmentationModel model;
  model.spec.arch = "unet";
  model.spec.base_channels = 4;
  model.spec.depth = 2;
  model.image_size = 32;
  model.net = models::make_segmentation_net(model.spec);
  save_segmentation_model(model, file);
}

TEST(FinetuneCells, NestedBudgetsAndNoPatientAcrossFolds) {
  testing::TempDir dir;
  const auto config = small_config(dir, {"budgets=[2, 4, 6]"});
  const auto dataset = open_dataset(config.data);
  const auto plan = plan_cells(dataset, config, dir.path());
  ASSERT_EQ(plan.cells.size(), 9U);
  for (std::size_t fold = 0; fold < 3; ++fold) {
    const auto& m2 = plan.cells[fold * 3].train;
    const auto& m4 = plan.cells[fold * 3 + 1].train;
    const auto& m6 = plan.cells[fold * 3 + 2].train;
    EXPECT_EQ(m2.size(), 2U);
    EXPECT_EQ(m6.size(), 6U);
    const std::set<std::int64_t> s4(m4.begin(), m4.end()), s6(m6.begin(), m6.end());
    for (auto i : m2) EXPECT_TRUE(s4.count(i)) << "M=2 not inside M=4";
    for (auto i : m4) EXPECT_TRUE(s6.count(i)) << "M=4 not inside M=6";
    std::set<std::string> test_patients;
    for (auto i : plan.test(static_cast<std::int64_t>(fold)))
      test_patients.insert(dataset.patient_id(i));
    for (auto i : m6) EXPECT_EQ(test_patients.count(dataset.patient_id(i)), 0U);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / kSplitsFile));
}

TEST(FinetuneCells, BudgetLargerThanTheFoldIsAnInputErrorNamingBudgets) {
  testing::TempDir dir;
  const auto config = small_config(dir, {"budgets=[500]"});
  const auto dataset = open_dataset(config.data);
  try {
    plan_cells(dataset, config, dir.path());
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_EQ(std::string(error.what()).rfind("budgets: labelled images M=500 exceeds", 0), 0U)
        << error.what();
  }
}

TEST(FinetuneCells, SeedsReplicateEachCellOnTheSameImages) {
  testing::TempDir dir;
  const auto config = small_config(dir, {"seeds=[0, 7]"});
  const auto dataset = open_dataset(config.data);
  const CellPlan plan = plan_cells(dataset, config, dir.path());
  ASSERT_EQ(plan.cells.size(), 3U * 2U * 2U);  // folds x M x seeds
  std::set<std::uint64_t> seeds;
  for (std::size_t i = 0; i < plan.cells.size(); i += 2) {
    const Cell& first = plan.cells[i];
    const Cell& second = plan.cells[i + 1];
    EXPECT_EQ(first.directory,
              "fold" + std::to_string(first.fold) + "/m" + std::to_string(first.budget) + "/seed0");
    EXPECT_EQ(second.directory,
              "fold" + std::to_string(first.fold) + "/m" + std::to_string(first.budget) + "/seed7");
    // Replicates train on the same M images (a paired comparison needs exactly this).
    EXPECT_EQ(first.train, second.train);
    seeds.insert(cell_seed(config.run.seed, first));
    seeds.insert(cell_seed(config.run.seed, second));
  }
  EXPECT_EQ(seeds.size(), plan.cells.size()) << "every cell trains with its own seed";
  EXPECT_THROW(small_config(dir, {"seeds=[1, 1]"}), common::InputError);
  EXPECT_THROW(small_config(dir, {"seeds=[]"}), common::InputError);
}

TEST(Finetune, SeedCellsAreTrainedOnceAndDiffer) {
  testing::TempDir dir;
  const auto config = small_config(dir, {"seeds=[0, 1]", "budgets=[2]", "folds.k=2"});
  ASSERT_EQ(finetune(config, {}), 0);
  const auto first = dir / "ft" / "fold1" / "m2" / "seed0" / kModelFile;
  const auto second = dir / "ft" / "fold1" / "m2" / "seed1" / kModelFile;
  ASSERT_TRUE(std::filesystem::exists(first));
  ASSERT_TRUE(std::filesystem::exists(second));
  const auto a = load_segmentation_model(first);
  const auto b = load_segmentation_model(second);
  const auto pa = a.net->parameters();
  const auto pb = b.net->parameters();
  bool differ = false;
  for (std::size_t i = 0; i < pa.size(); ++i) differ = differ || !torch::equal(pa[i], pb[i]);
  EXPECT_TRUE(differ) << "two seeds trained the same model";
  // Re-running skips every finished cell.
  const auto written = std::filesystem::last_write_time(second);
  ASSERT_EQ(finetune(config, {}), 0);
  EXPECT_EQ(std::filesystem::last_write_time(second), written);
}

TEST(Finetune, HooksSeeEveryStepOfEveryCellOnTheRunsDeviceAndFormat) {
  // The settings of finetune_host_sync_test.cpp's GPU check, on the CPU: 8 images in batches of
  // 2 are 4 steps in each of the 3 cells' single epoch.
  testing::TempDir dir;
  const auto config = testing_support::small_finetune_config(
      dir, "[8]",
      {"run.channels_last=true", "data.image_size=64", "augment.placement=device",
       "optim.batch_size=2", "optim.epochs=1"});
  std::vector<std::int64_t> steps;
  FinetuneHooks hooks;
  hooks.before_step = [&](std::int64_t step, const torch::Tensor& image,
                          const torch::Tensor& mask) {
    steps.push_back(step);
    EXPECT_EQ(image.sizes(), (torch::IntArrayRef{2, 1, 64, 64}));
    EXPECT_TRUE(image.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_EQ(image.device(), torch::Device(torch::kCPU));
    EXPECT_EQ(mask.sizes(), (torch::IntArrayRef{2, 64, 64}));
    EXPECT_EQ(mask.scalar_type(), torch::kLong);
    EXPECT_GE(mask.min().item<std::int64_t>(), 0);
    EXPECT_LT(mask.max().item<std::int64_t>(), config.model.classes);
  };
  ASSERT_EQ(finetune(config, {}, hooks), 0);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(Finetune, MissingPretrainRunIsAnInputError) {
  testing::TempDir dir;
  const auto config =
      small_config(dir, {"init.type=pretrained", "init.pretrain_run=" + (dir / "nope").string()});
  try {
    finetune(config, {});
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("init.pretrain_run: " + (dir / "nope").string() +
                        "/encoder.safetensors not found"),
              std::string::npos)
        << error.what();
  }
}

/// Every file under `dir` with its contents: a snapshot to prove that nothing changed. run.log
/// is left out: in this one test process the earlier run's log file stays open and receives the
/// later calls' messages (an executable opens one run per process).
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == common::kRunLogFile) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[std::filesystem::relative(entry.path(), dir).string()] =
        std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Finetune, OverwriteWithBadInputKeepsTheFinishedRun) {
  testing::TempDir dir;
  const auto config = small_config(dir, {"budgets=[2]", "folds.k=2", "optim.epochs=1"});
  ASSERT_EQ(finetune(config, {}), 0);
  const auto before = snapshot(dir / "ft");
  ASSERT_TRUE(before.count("fold1/m2/seed0/" + std::string(kModelFile)));
  const auto parent_before = names_in(dir.path());
  RunOptions overwrite;
  overwrite.overwrite = true;

  // A truncated encoder file in init.pretrain_run.
  const auto pretrain_run = dir / "pre";
  std::filesystem::create_directories(pretrain_run);
  // Three bytes of an eight-byte header length (a bare literal would stop at its first NUL).
  std::ofstream(pretrain_run / kEncoderFile) << std::string("\x08\x00\x00", 3);
  auto bad_encoder = config;
  bad_encoder.init.type = config::InitType::kPretrained;
  bad_encoder.init.pretrain_run = pretrain_run.string();
  EXPECT_THROW(finetune(bad_encoder, overwrite), common::Error);
  EXPECT_EQ(snapshot(dir / "ft"), before);

  // A manifest that does not parse.
  const auto manifest = dir / "manifest.csv";
  std::ofstream(manifest) << "not,a,manifest\n";
  auto bad_manifest = config;
  bad_manifest.data.source.type = "manifest";
  bad_manifest.data.source.path = manifest.string();
  EXPECT_THROW(finetune(bad_manifest, overwrite), common::InputError);
  EXPECT_EQ(snapshot(dir / "ft"), before);

  // Bad input found once the new run directory exists (a budget the folds cannot hold): the
  // old run is put back as it was.
  auto bad_budget = config;
  bad_budget.budgets = {500};
  EXPECT_THROW(finetune(bad_budget, overwrite), common::InputError);
  EXPECT_EQ(snapshot(dir / "ft"), before);
  auto parent_after = names_in(dir.path());
  parent_after.erase(std::remove(parent_after.begin(), parent_after.end(), "pre"),
                     parent_after.end());
  parent_after.erase(std::remove(parent_after.begin(), parent_after.end(), "manifest.csv"),
                     parent_after.end());
  EXPECT_EQ(parent_after, parent_before);  // no moved-aside copy left over
}

TEST(Finetune, AFailedFreshRunLeavesNothingAndTheCorrectedCommandRuns) {
  testing::TempDir dir;
  auto config = small_config(dir, {"budgets=[500]", "folds.k=2", "optim.epochs=1"});
  EXPECT_THROW(finetune(config, {}), common::InputError);
  EXPECT_FALSE(std::filesystem::exists(dir / "ft"));  // no config.yaml, run.log, splits.json
  config = small_config(dir, {"budgets=[2]", "folds.k=2", "optim.epochs=1"});
  EXPECT_EQ(finetune(config, {}), 0);

  // evaluate with a fold model missing leaves no partial _eval directory.
  std::filesystem::remove(dir / "ft" / "fold1" / "m2" / "seed0" / kModelFile);
  const auto evaluation = config::load_evaluate_config(
      {}, {"finetune_run=" + (dir / "ft").string(), "run.output_dir=" + dir.path().string(),
           "run.name=ft_eval"});
  EXPECT_THROW(evaluate(evaluation, {}), common::InputError);
  EXPECT_FALSE(std::filesystem::exists(dir / "ft_eval"));
}

TEST(Finetune, CellsAreSkippedWhenFinishedAndResumedWhenInterrupted) {
  testing::TempDir dir;
  const auto config = small_config(dir);
  const auto model = dir / "ft" / "fold0" / "m2" / "seed0" / kModelFile;
  // Interrupt during the second cell: the first cell is finished, the second has a checkpoint.
  common::request_interrupt(false);
  {
    auto interrupted = config;
    interrupted.optim.epochs = 3;
    // Raising the flag before the run makes the first step of the first cell save and stop.
    common::request_interrupt(true);
    EXPECT_THROW(finetune(interrupted, {}), common::Interrupted);
    common::request_interrupt(false);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "ft" / "fold0" / "m2" / "seed0" / "checkpoint.pt"));
  EXPECT_FALSE(std::filesystem::exists(model));
  // The same command continues (the config on disk says 3 epochs, so use it again).
  auto again = config;
  again.optim.epochs = 3;
  EXPECT_EQ(finetune(again, {}), 0);
  ASSERT_TRUE(std::filesystem::exists(model));
  const auto written = std::filesystem::last_write_time(model);
  EXPECT_EQ(finetune(again, {}), 0);  // finished run: nothing to do
  EXPECT_EQ(std::filesystem::last_write_time(model), written);
  // A different config in the same run directory is refused, not mixed in.
  EXPECT_THROW(finetune(config, {}), common::InputError);
}

TEST(Finetune, PhantomWithAllLabelsReachesDice90) {
  testing::TempDir dir;
  // Two folds of ~30 images; every training image labelled; 64 px, 60 epochs of 3 steps. The
  // 90 % bar is phantom version 1's (version 2 is harder by design: docs/phantom.md). With
  // cross-entropy alone one fold sat on a plateau on some CPUs (pooled Dice 70 % for that fold
  // on an Intel Xeon, 98 % on an AMD EPYC: their kernels round differently); Dice + CE leaves
  // it on both (97.7 % with AVX-512 and with ONEDNN_MAX_CPU_ISA=AVX2).
  const auto config = small_config(
      dir, {"data.image_size=64", "data.source.phantom_version=1", "data.source.patients=20",
            "data.source.images_per_patient=[2, 4]", "model.base_channels=8", "model.depth=3",
            "folds.k=2", "budgets=[24]", "optim.epochs=60", "optim.batch_size=8", "optim.lr=0.005",
            "loss=dice_ce"});
  ASSERT_EQ(finetune(config, {}), 0);
  auto evaluation = config::load_evaluate_config(
      {}, {"finetune_run=" + (dir / "ft").string(), "run.output_dir=" + dir.path().string(),
           "run.name=ev", "overlays_per_fold=1"});
  ASSERT_EQ(evaluate(evaluation, {}), 0);
  std::ifstream table(dir / "ev" / "table.txt");
  std::string header, row;
  std::getline(table, header);
  std::getline(table, row);
  const double mean = std::stod(row.substr(row.find_first_of("0123456789")));
  EXPECT_GE(mean, 90.0) << row;
  EXPECT_TRUE(std::filesystem::exists(dir / "ev" / "overlays" / "fold0_m24_0.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "ev" / "results.csv"));
}

TEST(Evaluate, SegmentsNewImagesAtNativeResolutionInEveryFormat) {
  testing::TempDir dir;
  SegmentationModel model;
  model.spec.arch = "unet";
  model.spec.base_channels = 4;
  model.spec.depth = 2;
  model.image_size = 32;
  torch::manual_seed(1);
  model.net = models::make_segmentation_net(model.spec);
  save_segmentation_model(model, dir / "model.safetensors");

  data::PhantomOptions phantom;
  phantom.patients = 1;
  phantom.min_images = phantom.max_images = 1;
  phantom.width = 53;  // odd and non-square
  phantom.height = 37;
  const auto image = data::render_phantom(phantom, 0, 0).image;
  const auto images = dir / "images";
  std::filesystem::create_directories(images);
  cv::Mat eight, sixteen;
  image.convertTo(eight, CV_8U, 255.0);
  image.convertTo(sixteen, CV_16U, 65535.0);
  data::write_png(images / "a.png", eight);
  data::write_png(images / "b16.png", sixteen);
  cv::Mat twelve;
  image.convertTo(twelve, CV_16U, 4095.0);
  data::DicomWriteOptions dicom;
  dicom.patient_id = "x";
  data::write_dicom(images / "c.dcm", twelve, dicom);

  const auto config = config::load_evaluate_config(
      {}, {"checkpoint=" + (dir / "model.safetensors").string(), "images=" + images.string(),
           "run.output_dir=" + dir.path().string()});
  ASSERT_EQ(evaluate(config, {}), 0);
  const auto out = dir / "segment" / "segmentations";
  const auto reference = cv::imread((out / "a_mask.png").string(), cv::IMREAD_UNCHANGED);
  for (const char* stem : {"a", "b16", "c"}) {
    const auto mask =
        cv::imread((out / (std::string(stem) + "_mask.png")).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(mask.empty()) << stem;
    EXPECT_EQ(mask.rows, 37);
    EXPECT_EQ(mask.cols, 53);
    double low = 0, high = 0;
    cv::minMaxLoc(mask, &low, &high);
    EXPECT_LE(high, 2.0);
    // Same pixels in three encodings: nearly the same masks (quantisation differs slightly).
    EXPECT_LT(cv::countNonZero(mask != reference), mask.total() / 20) << stem;
    EXPECT_TRUE(std::filesystem::exists(out / (std::string(stem) + "_overlay.png")));
  }
}

TEST(Evaluate, ImagesSharingAStemAreRefusedBeforeAnythingIsWritten) {
  testing::TempDir dir;
  save_tiny_model(dir / "model.safetensors");
  const auto images = dir / "images";
  std::filesystem::create_directories(images);
  const cv::Mat picture(40, 40, CV_8UC1, cv::Scalar(90));
  data::write_png(images / "a.png", picture);
  ASSERT_TRUE(cv::imwrite((images / "a.tif").string(), picture));
  const auto config = config::load_evaluate_config(
      {}, {"checkpoint=" + (dir / "model.safetensors").string(), "images=" + images.string(),
           "run.output_dir=" + dir.path().string()});
  try {
    evaluate(config, {});
    FAIL() << "two images with one output name were accepted";
  } catch (const common::InputError& error) {
    EXPECT_EQ(std::string(error.what()), "images: " + (images / "a.png").string() + " and " +
                                             (images / "a.tif").string() +
                                             " would both write a_mask.png; rename one or "
                                             "segment them separately");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "segment"));
}

TEST(Evaluate, ACheckpointThatIsNotASegmentationModelIsRefused) {
  testing::TempDir dir;
  auto encoder = models::make_encoder(model_spec(config::ModelConfig{}));
  models::export_weights(*encoder, dir / "encoder.safetensors");
  try {
    load_segmentation_model(dir / "encoder.safetensors");
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("not a segmentation model of this toolkit"),
              std::string::npos);
  }
}

TEST(Evaluate, ACorruptModelFileIsRefusedWithItsName) {
  testing::TempDir dir;
  const auto file = dir / "model.safetensors";
  save_tiny_model(file);
  std::string bytes = common::read_file(file);
  bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x40);  // a weight
  common::write_file_atomic(file, std::string_view(bytes));
  try {
    load_segmentation_model(file);
    FAIL() << "a corrupt model was loaded";
  } catch (const common::InputError& error) {
    EXPECT_EQ(std::string(error.what()).find(file.string() + ": checksum mismatch"), 0U)
        << error.what();
  }
  EXPECT_EQ(common::read_file(file), bytes);
}

}  // namespace
}  // namespace cltci::run
