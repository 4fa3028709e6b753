// Per-iteration learning-rate schedule: linear warm-up that multiplies a cosine decay to a floor,
// as the authors' pre-training scripts do (cl-tci-reference.md sec. 4), or a constant rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::engine {

enum class LrSchedule { kCosine, kConstant };

/// Every schedule's name, in declaration order: the config's choice list for optim.schedule.
const std::vector<std::string>& lr_schedule_names();
const std::string& to_string(LrSchedule schedule);

struct ScheduleOptions {
  double base_lr = 0.1;
  double min_lr = 0.0;  ///< floor the cosine decays to
  std::int64_t total_steps = 1;
  std::int64_t warmup_steps = 0;
  LrSchedule schedule = LrSchedule::kCosine;  ///< kConstant: base_lr (after warm-up)
};

/// Learning rate at 0-based iteration `step`:
///   cosine(step) = min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2
///   warm-up factor = min(1, (step + 1) / warmup_steps)
/// so the first step never runs at exactly zero.
double learning_rate(const ScheduleOptions& options, std::int64_t step);

}  // namespace cltci::engine
