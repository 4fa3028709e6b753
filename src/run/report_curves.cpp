#include "cltci/run/report_curves.h"

#include "cltci/analysis/line_plot.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/csv.h"
#include "cltci/engine/trainer.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

double parse_number(const std::string& text,
                    const fs::path& file,
                    std::int64_t line,
                    const std::string& column) {
  if (text.empty()) return kMissing;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) {
    throw common::InputError(file.string() + ":" + std::to_string(line) + ": " + column +
                             ": not a number '" + text + "'");
  }
  return value;
}

}  // namespace

TrainingCurve read_training_curve(const fs::path& metrics_csv, std::string label) {
  const auto records = data::parse_csv(common::read_file(metrics_csv), metrics_csv.string());
  if (records.empty()) throw common::InputError(metrics_csv.string() + ": empty metrics file");
  const auto& header = records.front().fields;
  const auto column = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto found = std::find(header.begin(), header.end(), name);
    if (found == header.end()) return std::nullopt;
    return static_cast<std::size_t>(found - header.begin());
  };
  const auto required = [&](const std::string& name) {
    const auto index = column(name);
    if (!index) {
      throw common::InputError(metrics_csv.string() + ": no '" + name +
                               "' column (not a metrics.csv of pretrain or finetune)");
    }
    return *index;
  };
  const std::size_t step = required("global_step");
  const std::size_t loss = required("loss");
  const std::size_t lr = required("lr");
  const auto probe = column("probe_top1");
  TrainingCurve curve;
  curve.label = std::move(label);
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& fields = records[i].fields;
    const auto value = [&](std::size_t index, const std::string& name) {
      return index < fields.size() ? parse_number(fields[index], metrics_csv, records[i].line, name)
                                   : kMissing;
    };
    curve.step.push_back(value(step, "global_step"));
    curve.loss.push_back(value(loss, "loss"));
    curve.lr.push_back(value(lr, "lr"));
    if (probe) curve.probe_top1.push_back(value(*probe, "probe_top1"));
  }
  return curve;
}

std::vector<TrainingCurve> read_training_curves(const std::vector<fs::path>& runs) {
  std::vector<TrainingCurve> curves;
  for (const auto& run : runs) {
    if (fs::is_regular_file(run)) {
      curves.push_back(read_training_curve(run, run.parent_path().filename().string()));
      continue;
    }
    if (!fs::is_directory(run)) throw common::InputError(run.string() + ": not found");
    const fs::path own = run / engine::kMetricsFile;
    const std::string name =
        fs::path(run).lexically_normal().filename().string().empty()
            ? fs::path(run).lexically_normal().parent_path().filename().string()
            : fs::path(run).lexically_normal().filename().string();
    if (fs::is_regular_file(own)) {
      curves.push_back(read_training_curve(own, name));
      continue;
    }
    // A finetune run: one metrics.csv per (fold, M, seed) cell.
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(run)) {
      if (entry.is_regular_file() && entry.path().filename() == engine::kMetricsFile) {
        found.push_back(entry.path());
      }
    }
    if (found.empty()) {
      throw common::InputError(run.string() + ": no " + engine::kMetricsFile +
                               " in it or below it (not a pretrain or finetune run)");
    }
    std::sort(found.begin(), found.end());
    for (const auto& file : found) {
      const std::string cell = file.parent_path().lexically_relative(run).generic_string();
      curves.push_back(read_training_curve(file, name + "/" + cell));
    }
  }
  return curves;
}

cv::Mat training_curves_plot(const std::vector<TrainingCurve>& curves,
                             int width,
                             int panel_height) {
  // Every panel spans every step logged, so the panels line up (the probe's rows are sparse).
  std::vector<double> steps;
  for (const auto& curve : curves) {
    for (double s : curve.step) {
      if (std::isfinite(s)) steps.push_back(s);
    }
  }
  if (!steps.empty()) {
    const auto [low, high] = std::minmax_element(steps.begin(), steps.end());
    steps = {*low, *high};
  }
  const auto panel = [&](const std::string& title, const std::string& y_label,
                         const std::vector<double> TrainingCurve::*values, double scale,
                         int marker_radius) {
    std::vector<analysis::LineSeries> series;
    for (const auto& curve : curves) {
      analysis::LineSeries line;
      line.label = curve.label;
      line.x = curve.step;
      line.y = curve.*values;
      // A curve without the column still takes its colour, so colours match across panels.
      if (line.y.size() != line.x.size()) line.y.assign(line.x.size(), kMissing);
      for (double& y : line.y) y *= scale;
      series.push_back(std::move(line));
    }
    analysis::LinePlotOptions options;
    options.width = width;
    options.height = panel_height;
    options.title = title;
    options.x_label = "global step";
    options.y_label = y_label;
    options.marker_radius = marker_radius;
    options.x_include = steps;
    return analysis::line_plot(series, options);
  };
  std::vector<cv::Mat> panels = {panel("training loss", "loss", &TrainingCurve::loss, 1.0, 0),
                                 panel("learning rate", "lr", &TrainingCurve::lr, 1.0, 0)};
  const bool probed = std::any_of(curves.begin(), curves.end(), [](const TrainingCurve& c) {
    return std::any_of(c.probe_top1.begin(), c.probe_top1.end(),
                       [](double v) { return std::isfinite(v); });
  });
  if (probed) {
    // Markers: the probe runs every few epochs, and a single probe is a point, not a line.
    panels.push_back(panel("same-patient retrieval top-1 of the probe", "probe top-1 (%)",
                           &TrainingCurve::probe_top1, 100.0, 3));
  }
  cv::Mat out;
  cv::vconcat(panels, out);
  return out;
}

}  // namespace cltci::run
