#include "cltci/run/evaluate.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/run_directory.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_batch.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/square_geometry.h"
#include "cltci/engine/dice.h"
#include "cltci/engine/fold_summary.h"
#include "cltci/engine/overlay.h"
#include "cltci/run/embed.h"
#include "cltci/run/evaluate_scoring.h"
#include "cltci/run/evaluate_writers.h"
#include "cltci/run/finetune_cells.h"
#include "cltci/run/segmentation_model.h"

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// Scores every cell of a fine-tuning run on its held-out fold: results.csv, summary.json,
/// table.txt and overlays/ in the evaluation's run directory.
int evaluate_finetune_run(const config::EvaluateConfig& config, const RunOptions& options) {
  // The fine-tuning run is opened, and its models looked for, before the run directory is made;
  // a later failure unwinds through the context, which removes what this run wrote.
  const std::string effective_config = config::dump(config);
  check_run(config.run, effective_config, options);  // before the cache is opened or built
  const FinetuneRun run = open_finetune_run(config.finetune_run);
  const auto context = open_run(config.run, effective_config, options);
  OverlayWriter overlays(run, context.directory / "overlays", config.overlays_per_fold);
  const RunScores scores =
      score_finetune_run(run, config.batch_size, context.device, std::ref(overlays));
  common::write_file_atomic(context.directory / "results.csv",
                            std::string_view(results_csv(run, scores)));

  const auto by_budget = engine::summarise_by_budget(scores.cell_scores());
  const std::string table = engine::format_table({{initialisation_name(run.config), by_budget}});
  common::write_file_atomic(context.directory / "table.txt", std::string_view(table));
  common::write_file_atomic(context.directory / common::kRunSummaryFile,
                            std::string_view(evaluation_summary(run, scores)));
  std::cout << "Dice (%) pooled over each test fold, mean(std) over " << run.config.folds.k
            << " folds x " << run.config.seeds.size() << " seed(s); " << engine::kEmptyMaskRule
            << "\n"
            << table << std::flush;
  spdlog::info("[evaluate] results.csv, summary.json, table.txt and overlays/ in {}",
               context.directory.string());
  return 0;
}

bool is_image_file(const fs::path& file) {
  static const std::set<std::string> extensions{".png", ".jpg", ".jpeg",  ".tif", ".tiff",
                                                ".bmp", ".dcm", ".dicom", ".img", ".gif"};
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extensions.count(extension) != 0;
}

/// Segments new images with a fine-tuned model: masks at native resolution plus overlays.
int segment_images(const config::EvaluateConfig& config, const RunOptions& options) {
  auto model = load_segmentation_model(config.checkpoint);
  const fs::path input(config.images);
  std::vector<fs::path> files;
  if (fs::is_directory(input)) {
    for (const auto& entry : fs::directory_iterator(input)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty())
      throw common::InputError("images: " + input.string() + " holds no image file");
  } else if (fs::is_regular_file(input)) {
    files.push_back(input);
  } else {
    throw common::InputError("images: " + input.string() + " not found");
  }
  // Outputs are named by stem: a.png and a.tif would write one a_mask.png, the second
  // overwriting the first.
  std::map<std::string, fs::path> by_stem;
  for (const auto& file : files) {
    const auto [found, inserted] = by_stem.emplace(file.stem().string(), file);
    if (!inserted) {
      throw common::InputError("images: " + found->second.string() + " and " + file.string() +
                               " would both write " + file.stem().string() +
                               "_mask.png; rename one or segment them separately");
    }
  }
  const std::string effective_config = config::dump(config);
  check_run(config.run, effective_config, options);
  // Decode everything first: a corrupt file stops the run before anything is written.
  std::vector<data::DecodedImage> decoded;
  decoded.reserve(files.size());
  for (const auto& file : files) decoded.push_back(data::read_image(file));

  const auto context = open_run(config.run, effective_config, options);
  model.net->to(context.device);
  const fs::path out = context.directory / "segmentations";
  std::ostringstream listing;
  listing << "image,height,width,left_lung_pixels,right_lung_pixels,mask,overlay\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const cv::Mat& pixels = decoded[i].pixels;
    const auto geometry = data::square_geometry(pixels.rows, pixels.cols, model.image_size);
    const cv::Mat square = data::square_resize_image(pixels, model.image_size);
    const auto prediction =
        predict_labels(*model.net, data::images_to_batch({square}), context.device);
    const cv::Mat native = data::labels_to_native(label_mat(prediction[0]), geometry);
    const std::string stem = files[i].stem().string();
    data::write_png(out / (stem + "_mask.png"), native);
    data::write_png(out / (stem + "_overlay.png"), engine::draw_overlay(pixels, native));
    listing << data::csv_field(files[i].string()) << ',' << native.rows << ',' << native.cols << ','
            << cv::countNonZero(native == 1) << ',' << cv::countNonZero(native == 2) << ',' << stem
            << "_mask.png," << stem << "_overlay.png\n";
  }
  common::write_file_atomic(out / "segmentations.csv", std::string_view(listing.str()));
  common::write_file_atomic(
      context.directory / common::kRunSummaryFile,
      std::string_view(segmentation_summary(config.checkpoint, files.size())));
  spdlog::info(
      "[evaluate] {} label masks (0 background, 1 left lung, 2 right lung) at native "
      "resolution and overlays in {}",
      files.size(), out.string());
  return 0;
}

}  // namespace

int evaluate(const config::EvaluateConfig& config, const RunOptions& options) {
  if (!config.checkpoint.empty()) return segment_images(config, options);
  if (!config.pretrain_run.empty()) return embed_pretrain_run(config, options);
  return evaluate_finetune_run(config, options);
}

}  // namespace cltci::run
