#include "cltci/run/evaluate.h"

#include "cltci/analysis/percentile.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_batch.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/square_geometry.h"
#include "cltci/engine/dice.h"
#include "cltci/engine/fold_summary.h"
#include "cltci/engine/overlay.h"
#include "cltci/engine/surface_distance.h"
#include "cltci/run/bridges.h"
#include "cltci/run/embed.h"
#include "cltci/run/finetune_cells.h"
#include "cltci/run/segmentation_model.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Six decimals, the precision of every score evaluate writes; `undefined` for NaN and inf.
std::string fixed6(double value, const char* undefined) {
  if (!std::isfinite(value)) return undefined;
  std::ostringstream out;
  out.precision(6);
  out << std::fixed << value;
  return out.str();
}

/// A CSV cell of a distance: empty where it is undefined (the surface column says why).
std::string csv_number(double value) { return fixed6(value, ""); }

/// Arg-max label maps [B, S, S] (uint8) of a batch.
torch::Tensor predict(models::SegmentationNet& net,
                      const torch::Tensor& batch,
                      c10::Device device) {
  torch::NoGradGuard no_grad;
  return net.forward(batch.to(device)).argmax(1).to(torch::kCPU, torch::kUInt8);
}

cv::Mat label_mat(const torch::Tensor& labels) {
  auto contiguous = labels.contiguous();
  return cv::Mat(static_cast<int>(labels.size(0)), static_cast<int>(labels.size(1)), CV_8UC1,
                 contiguous.data_ptr<std::uint8_t>())
      .clone();
}

std::string json_number(double value) { return fixed6(value, "null"); }

/// Surface distances and the per-image Dice distribution of one cell, beside its CellScore.
struct CellSurfaces {
  std::vector<double> hd95_sum, assd_sum;  ///< per class, over images with defined distances
  std::vector<std::int64_t> defined;
  std::vector<std::array<std::int64_t, 4>> status;  ///< per class, images per SurfaceStatus
  std::vector<double> image_dice;                   ///< per image: mean Dice of the lung classes

  explicit CellSurfaces(std::size_t classes)
      : hd95_sum(classes, 0.0), assd_sum(classes, 0.0), defined(classes, 0), status(classes) {}

  void add(std::size_t c, const engine::SurfaceDistances& d) {
    ++status[c][static_cast<std::size_t>(d.status)];
    if (d.status != engine::SurfaceStatus::kDefined) return;
    hd95_sum[c] += d.hd95;
    assd_sum[c] += d.assd;
    ++defined[c];
  }
  double hd95(std::size_t c) const { return defined[c] ? hd95_sum[c] / defined[c] : kNaN; }
  double assd(std::size_t c) const { return defined[c] ? assd_sum[c] / defined[c] : kNaN; }
  /// Mean over the classes with a value; NaN when none has one.
  static double mean_of(const std::vector<double>& values) {
    double sum = 0.0;
    int n = 0;
    for (const double v : values) {
      if (std::isfinite(v)) {
        sum += v;
        ++n;
      }
    }
    return n ? sum / n : kNaN;
  }
};

/// `{"left": x, "right": y, "mean": z}` of a per-class statistic (null where undefined).
std::string class_json(const std::function<double(std::size_t)>& value, std::size_t classes) {
  std::vector<double> values;
  for (std::size_t c = 0; c < classes; ++c) values.push_back(value(c));
  return "{\"left\": " + json_number(values[0]) + ", \"right\": " + json_number(values[1]) +
         ", \"mean\": " + json_number(CellSurfaces::mean_of(values)) + "}";
}

/// Native pixels, or mm when every scored image has a known pixel spacing: one unit per run, so
/// that cells and tables never mix them.
bool spacing_known(const data::CachedDataset& dataset, const CellPlan& plan) {
  for (const auto& cell : plan.cells) {
    for (const std::int64_t index : plan.test(cell.fold)) {
      const std::array<double, 2> mm = dataset.pixel_spacing(index);
      if (!(mm[0] > 0.0) || !(mm[1] > 0.0)) return false;
    }
  }
  return true;
}

/// Scores every cell of a fine-tuning run on its held-out fold.
int score_finetune_run(const config::EvaluateConfig& config, const RunOptions& options) {
  const fs::path finetune_dir(config.finetune_run);
  const fs::path finetune_config = finetune_dir / common::kRunConfigFile;
  if (!fs::exists(finetune_config)) {
    throw common::InputError("finetune_run: " + finetune_dir.string() +
                             " is not a finetune run (it has no config.yaml)");
  }
  const auto finetune = config::load_finetune_config(finetune_config, {});
  const auto dataset = open_dataset(finetune.data);
  const auto plan = plan_cells(dataset, finetune, finetune_dir);
  // Every fold model is looked for before the run directory is made: a missing one must not
  // leave a partial _eval directory behind (a later failure unwinds through the context, which
  // removes what this run wrote).
  for (const auto& cell : plan.cells) {
    const fs::path model_file = finetune_dir / cell.directory / kModelFile;
    if (!fs::exists(model_file)) {
      throw common::InputError("finetune_run: " + model_file.string() +
                               " is missing; run finetune to the end first");
    }
  }
  const auto context = open_run(config.run, config::dump(config), options);
  const std::string initialisation = initialisation_name(finetune);
  const std::int64_t largest_budget = finetune.budgets.back();
  const fs::path overlay_dir = context.directory / "overlays";

  // Distances are measured on the cached square, whose pixel is 1/scale native pixels (the
  // resize is isotropic), times the native spacing when it is known.
  const bool in_mm = spacing_known(dataset, plan);
  const std::string unit = in_mm ? "mm" : "px";
  std::ostringstream results;
  results << "fold,budget,seed,image,patient,class,dice,tp,fp,fn,hd95_" << unit << ",assd_" << unit
          << ",surface\n";
  const std::int64_t first_seed = finetune.seeds.front();
  std::vector<engine::CellScore> scores;
  std::vector<CellSurfaces> cell_surfaces;
  for (const auto& cell : plan.cells) {
    const fs::path model_file = finetune_dir / cell.directory / kModelFile;
    auto model = load_segmentation_model(model_file);
    if (model.image_size != dataset.image_size()) {
      throw common::InputError(
          model_file.string() + ": trained at " + std::to_string(model.image_size) +
          " px, the data set is cached at " + std::to_string(dataset.image_size()));
    }
    model.net->to(context.device);
    const auto test = plan.test(cell.fold);
    engine::CellScore score;
    score.fold = cell.fold;
    score.budget = cell.budget;
    score.seed = cell.seed;
    score.images = static_cast<std::int64_t>(test.size());
    const auto classes = model.spec.classes;
    score.pooled.assign(static_cast<std::size_t>(classes - 1), {});
    score.per_image_mean.assign(static_cast<std::size_t>(classes - 1), 0.0);
    CellSurfaces surfaces(static_cast<std::size_t>(classes - 1));
    std::int64_t overlays = 0;
    for (std::size_t start = 0; start < test.size();
         start += static_cast<std::size_t>(config.batch_size)) {
      const std::size_t end =
          std::min(test.size(), start + static_cast<std::size_t>(config.batch_size));
      std::vector<cv::Mat> images;
      for (std::size_t i = start; i < end; ++i) images.push_back(dataset.image(test[i]));
      const auto predictions = predict(*model.net, data::images_to_batch(images), context.device);
      for (std::size_t i = start; i < end; ++i) {
        const auto index = test[i];
        const cv::Mat truth = dataset.labels(index);
        const cv::Mat predicted = label_mat(predictions[static_cast<std::int64_t>(i - start)]);
        const auto truth_tensor =
            torch::from_blob(truth.clone().data, {truth.rows, truth.cols}, torch::kUInt8).clone();
        const torch::Tensor prediction = predictions[static_cast<std::int64_t>(i - start)];
        const auto counts = engine::count_classes(prediction, truth_tensor, classes);
        const double native_per_cached = 1.0 / dataset.geometry(index).scale;
        const std::array<double, 2> mm = dataset.pixel_spacing(index);
        const std::array<double, 2> spacing =
            in_mm ? std::array<double, 2>{mm[0] * native_per_cached, mm[1] * native_per_cached}
                  : std::array<double, 2>{native_per_cached, native_per_cached};
        const auto distances =
            engine::surface_distances(prediction, truth_tensor, classes, spacing);
        std::vector<double> image_dice;
        for (std::size_t c = 0; c < counts.size(); ++c) {
          score.pooled[c] += counts[c];
          const double dice = engine::dice(counts[c]);
          image_dice.push_back(dice);
          score.per_image_mean[c] += dice / static_cast<double>(test.size());
          surfaces.add(c, distances[c]);
          results << cell.fold << ',' << cell.budget << ',' << cell.seed << ','
                  << data::csv_field(dataset.name(index)) << ','
                  << data::csv_field(dataset.patient_id(index)) << "," << c + 1 << ','
                  << json_number(dice) << ',' << counts[c].tp << ',' << counts[c].fp << ','
                  << counts[c].fn << ',' << csv_number(distances[c].hd95) << ','
                  << csv_number(distances[c].assd) << ',' << engine::to_string(distances[c].status)
                  << '\n';
        }
        surfaces.image_dice.push_back(CellSurfaces::mean_of(image_dice));
        if (cell.budget == largest_budget && cell.seed == first_seed &&
            overlays < config.overlays_per_fold) {
          const cv::Mat picture = engine::draw_overlay(dataset.image(index), predicted, truth);
          data::write_png(
              overlay_dir / ("fold" + std::to_string(cell.fold) + "_m" +
                             std::to_string(cell.budget) + "_" + std::to_string(overlays) + ".png"),
              picture);
          ++overlays;
        }
      }
    }
    spdlog::info(
        "[evaluate] fold {} M={} seed {}: pooled Dice {:.4f} (left {:.4f}, right {:.4f}), "
        "per-image {:.4f} over {} images",
        cell.fold, cell.budget, cell.seed, score.pooled_dice(), engine::dice(score.pooled[0]),
        engine::dice(score.pooled[1]), score.per_image_dice(), score.images);
    spdlog::info(
        "[evaluate] fold {} M={} seed {}: HD95 {:.2f} {}, ASSD {:.2f} {} (mean of the lungs "
        "over images where both masks are non-empty)",
        cell.fold, cell.budget, cell.seed,
        CellSurfaces::mean_of({surfaces.hd95(0), surfaces.hd95(1)}), unit,
        CellSurfaces::mean_of({surfaces.assd(0), surfaces.assd(1)}), unit);
    scores.push_back(std::move(score));
    cell_surfaces.push_back(std::move(surfaces));
  }
  common::write_file_atomic(context.directory / "results.csv", std::string_view(results.str()));

  const auto by_budget = engine::summarise_by_budget(scores);
  std::ostringstream summary;
  summary << "{\n  \"finetune_run\": " << common::json_string(finetune_dir.string())
          << ",\n  \"initialisation\": " << common::json_string(initialisation)
          << ",\n  \"arch\": " << common::json_string(finetune.model.arch)
          << ",\n  \"dice\": \"per lung class (1 = left, 2 = right), background excluded; pooled = "
             "TP/FP/FN summed over a fold's test images (the paper's number), per_image = mean "
             "of per-image Dice; both at the cached resolution\",\n  \"empty_mask_rule\": \""
          << engine::kEmptyMaskRule << "\",\n  \"surface_unit\": \"" << unit
          << "\",\n  \"surface\": \"HD95 and ASSD as MONAI computes them (per image and lung, on "
             "the cached square, in "
          << (in_mm ? "mm from each image's pixel spacing" : "native pixels")
          << "); a cell's value is the mean over its images with both masks non-empty, then over "
             "the two lungs\",\n  \"surface_empty_rule\": "
          << common::json_string(engine::kSurfaceEmptyRule) << ",\n  \"cells\": [\n";
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto& s = scores[i];
    summary << "    {\"fold\": " << s.fold << ", \"budget\": " << s.budget
            << ", \"seed\": " << s.seed << ", \"images\": " << s.images
            << ", \"pooled\": {\"left\": " << json_number(engine::dice(s.pooled[0]))
            << ", \"right\": " << json_number(engine::dice(s.pooled[1]))
            << ", \"mean\": " << json_number(s.pooled_dice())
            << "}, \"per_image\": {\"left\": " << json_number(s.per_image_mean[0])
            << ", \"right\": " << json_number(s.per_image_mean[1])
            << ", \"mean\": " << json_number(s.per_image_dice()) << "}";
    const CellSurfaces& d = cell_surfaces[i];
    const std::size_t lungs = d.defined.size();
    summary << ", \"per_image_dice\": {\"median\": "
            << json_number(analysis::percentile(d.image_dice, 50.0))
            << ", \"q25\": " << json_number(analysis::percentile(d.image_dice, 25.0))
            << ", \"q75\": " << json_number(analysis::percentile(d.image_dice, 75.0))
            << ", \"p5\": " << json_number(analysis::percentile(d.image_dice, 5.0)) << "}"
            << ", \"hd95\": " << class_json([&](std::size_t c) { return d.hd95(c); }, lungs)
            << ", \"assd\": " << class_json([&](std::size_t c) { return d.assd(c); }, lungs)
            << ", \"surface_images\": {";
    for (std::size_t c = 0; c < lungs; ++c) {
      summary << (c ? ", " : "") << (c == 0 ? "\"left\"" : "\"right\"") << ": {";
      for (std::size_t k = 0; k < 4; ++k) {
        summary << (k ? ", " : "") << "\""
                << engine::to_string(static_cast<engine::SurfaceStatus>(k))
                << "\": " << d.status[c][k];
      }
      summary << "}";
    }
    summary << "}}" << (i + 1 < scores.size() ? "," : "") << "\n";
  }
  summary << "  ],\n  \"by_budget\": {";
  std::size_t written = 0;
  for (const auto& [budget, stats] : by_budget) {
    summary << (written++ ? ", " : "") << "\"" << budget
            << "\": {\"mean\": " << json_number(stats.mean)
            << ", \"std\": " << json_number(stats.std) << ", \"cells\": " << stats.n
            << ", \"folds\": " << finetune.folds.k << ", \"seeds\": " << finetune.seeds.size()
            << "}";
  }
  summary << "}\n}\n";
  const std::string table = engine::format_table({{initialisation, by_budget}});
  common::write_file_atomic(context.directory / "table.txt", std::string_view(table));
  common::write_file_atomic(context.directory / common::kRunSummaryFile,
                            std::string_view(summary.str()));
  std::cout << "Dice (%) pooled over each test fold, mean(std) over " << finetune.folds.k
            << " folds x " << finetune.seeds.size() << " seed(s); " << engine::kEmptyMaskRule
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
  // Decode everything first: a corrupt file stops the run before anything is written.
  std::vector<data::DecodedImage> decoded;
  for (const auto& file : files) decoded.push_back(data::read_image(file));

  const auto context = open_run(config.run, config::dump(config), options);
  model.net->to(context.device);
  const fs::path out = context.directory / "segmentations";
  std::ostringstream listing;
  listing << "image,height,width,left_lung_pixels,right_lung_pixels,mask,overlay\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const cv::Mat& pixels = decoded[i].pixels;
    const auto geometry = data::square_geometry(pixels.rows, pixels.cols, model.image_size);
    const cv::Mat square = data::square_resize_image(pixels, model.image_size);
    const auto prediction = predict(*model.net, data::images_to_batch({square}), context.device);
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
      std::string_view("{\n  \"checkpoint\": " + common::json_string(config.checkpoint) +
                       ",\n  \"images\": " + std::to_string(files.size()) +
                       ",\n  \"masks\": \"segmentations/\"\n}\n"));
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
  return score_finetune_run(config, options);
}

}  // namespace cltci::run
