#include "cltci/engine/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::engine {

const std::vector<std::string>& lr_schedule_names() {
  static const std::vector<std::string> names{"cosine", "constant"};
  return names;
}

const std::string& to_string(LrSchedule schedule) {
  return lr_schedule_names().at(static_cast<std::size_t>(schedule));
}

double learning_rate(const ScheduleOptions& options, std::int64_t step) {
  const double total = static_cast<double>(std::max<std::int64_t>(1, options.total_steps));
  const double t = std::clamp(static_cast<double>(step), 0.0, total);
  double lr = options.base_lr;
  if (options.schedule == LrSchedule::kCosine) {
    lr = options.min_lr +
         (options.base_lr - options.min_lr) * 0.5 * (1.0 + std::cos(M_PI * t / total));
  }
  if (options.warmup_steps > 0 && step < options.warmup_steps) {
    lr *= static_cast<double>(step + 1) / static_cast<double>(options.warmup_steps);
  }
  return lr;
}

}  // namespace cltci::engine
