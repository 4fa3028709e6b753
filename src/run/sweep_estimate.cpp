#include "cltci/run/sweep_estimate.h"

#include "cltci/common/run_directory.h"
#include "cltci/run/finetune_cells.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace cltci::run {
namespace fs = std::filesystem;
using config::SweepStage;

double default_images_per_second(const std::string& arch) {
  return arch == "deeplabv3plus" ? 3.4 : 2.5;
}

double pretraining_cost(const std::string& method) {
  if (method == "cltci_moco" || method == "moco") return 1.5;
  if (method == "rotation") return 4.0;
  return 2.0;  // simclr, cltci_simclr (two views), pirl (image + 9 patches of 80 px)
}

std::string format_duration(double seconds) {
  char text[64];
  const long s = std::lround(seconds);
  if (s >= 86400) {
    std::snprintf(text, sizeof text, "%ld d %ld h", s / 86400, (s % 86400) / 3600);
  } else if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld h %02ld min", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%ld min %02ld s", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld s", s);
  }
  return text;
}

namespace {

struct Shape {
  std::string stage;
  std::string arch;
  std::int64_t image_size = 256;
  std::int64_t base_channels = 32;
  std::string method;  // pre-training only
  std::string key() const {
    return stage + " " + arch + " " + std::to_string(image_size) + " px, " +
           std::to_string(base_channels) + " channels" + (method.empty() ? "" : ", " + method);
  }
};

Shape shape_of(const SweepJob& job) {
  Shape shape;
  if (job.pretrain) {
    shape = {"pretrain", job.pretrain->model.arch, job.pretrain->data.image_size,
             job.pretrain->model.base_channels, job.pretrain->method.name};
  } else if (job.finetune) {
    shape = {"finetune", job.finetune->model.arch, job.finetune->data.image_size,
             job.finetune->model.base_channels, ""};
  }
  return shape;
}

double read_rate(const fs::path& summary) {
  try {
    const YAML::Node node = YAML::LoadFile(summary.string());
    if (node["images_per_second"]) return node["images_per_second"].as<double>();
  } catch (const std::exception&) {
  }
  return 0.0;
}

std::string cell_directory(std::int64_t fold, std::int64_t budget, std::int64_t seed) {
  return "fold" + std::to_string(fold) + "/m" + std::to_string(budget) + "/seed" +
         std::to_string(seed);
}

/// A mean of measured rates.
struct Mean {
  double sum = 0.0;
  int count = 0;
  void add(double x) {
    sum += x;
    ++count;
  }
  double value() const { return count > 0 ? sum / count : 0.0; }
};

/// A supervised-step-equivalent rate at 256 px, so runs of other sizes and methods inform it.
double to_reference(double rate, const Shape& shape) {
  const double pixels = static_cast<double>(shape.image_size) / 256.0;
  return rate * pixels * pixels * (shape.method.empty() ? 1.0 : pretraining_cost(shape.method));
}

double from_reference(double rate, const Shape& shape) {
  const double pixels = static_cast<double>(shape.image_size) / 256.0;
  return rate / (pixels * pixels) / (shape.method.empty() ? 1.0 : pretraining_cost(shape.method));
}

}  // namespace

SweepEstimate estimate_sweep(const SweepGraph& graph,
                             const std::vector<JobState>& states,
                             const std::map<std::string, double>& rates) {
  // Measured throughput, by exact shape and by backbone (rescaled to 256 px).
  std::map<std::string, Mean> exact;
  std::map<std::string, Mean> by_arch;
  for (const SweepJob& job : graph.jobs) {
    const Shape shape = shape_of(job);
    std::error_code error;
    if (job.pretrain && fs::exists(job.run_dir / common::kRunSummaryFile, error)) {
      const double rate = read_rate(job.run_dir / common::kRunSummaryFile);
      if (rate > 0) {
        exact[shape.key()].add(rate);
        by_arch[shape.arch].add(to_reference(rate, shape));
      }
    } else if (job.finetune) {
      for (auto fold = 0; fold < job.finetune->folds.k; ++fold) {
        for (auto budget : job.finetune->budgets) {
          for (auto seed : job.finetune->seeds) {
            const fs::path file =
                job.run_dir / cell_directory(fold, budget, seed) / kCellSummaryFile;
            if (!fs::exists(file, error)) continue;
            const double rate = read_rate(file);
            if (rate > 0) {
              exact[shape.key()].add(rate);
              by_arch[shape.arch].add(to_reference(rate, shape));
            }
          }
        }
      }
    }
  }

  SweepEstimate estimate;
  estimate.jobs.resize(graph.jobs.size());
  std::map<std::string, std::string> basis;  // shape key -> where its rate came from
  for (std::size_t i = 0; i < graph.jobs.size(); ++i) {
    const SweepJob& job = graph.jobs[i];
    JobEstimate& e = estimate.jobs[i];
    if (states[i].status == JobStatus::kDone || (!job.pretrain && !job.finetune)) continue;
    const Shape shape = shape_of(job);
    if (job.pretrain) {
      if (job.images <= 0) {
        e.known = false;
        ++estimate.unknown;
        continue;
      }
      // A running pre-training is counted whole: its progress is not read.
      e.images = static_cast<double>(job.pretrain->optim.epochs * job.images);
    } else {
      std::error_code error;
      for (auto fold = 0; fold < job.finetune->folds.k; ++fold) {
        for (auto budget : job.finetune->budgets) {
          for (auto seed : job.finetune->seeds) {
            const fs::path file =
                job.run_dir / cell_directory(fold, budget, seed) / kCellSummaryFile;
            if (fs::exists(file, error)) continue;
            e.images += static_cast<double>(job.finetune->optim.epochs * budget);
          }
        }
      }
    }
    double rate = 0.0;
    std::string from;
    if (const auto found = exact.find(shape.key()); found != exact.end()) {
      rate = found->second.value();
      from = "measured: mean of " + std::to_string(found->second.count) + " finished runs/cells";
    } else if (const auto arch = by_arch.find(shape.arch); arch != by_arch.end()) {
      rate = from_reference(arch->second.value(), shape);
      from = "rescaled from " + std::to_string(arch->second.count) + " finished " + shape.arch +
             " run(s) by pixels and method cost";
    } else {
      const auto user = rates.find(shape.arch);
      const double reference =
          user != rates.end() ? user->second : default_images_per_second(shape.arch);
      rate = from_reference(reference, shape);
      char text[160];
      std::snprintf(text, sizeof text, "%s %.2f img/s at 256 px%s",
                    user != rates.end() ? "--images-per-second" : "default", reference,
                    shape.method.empty()
                        ? ""
                        : (", x1/" + std::to_string(pretraining_cost(shape.method)).substr(0, 3) +
                           " for the method")
                              .c_str());
      from = text;
    }
    char line[256];
    std::snprintf(line, sizeof line, "%-60s %8.2f img/s  (%s)", shape.key().c_str(), rate,
                  from.c_str());
    basis[shape.key()] = line;
    e.seconds = e.images / rate;
    estimate.seconds += e.seconds;
  }
  for (const auto& [key, line] : basis) estimate.assumptions.push_back(line);
  return estimate;
}

}  // namespace cltci::run
