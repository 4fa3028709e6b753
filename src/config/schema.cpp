#include "cltci/config/schema.h"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>

namespace cltci::config {

std::optional<std::string> Rule::violation(double value) const {
  if (!std::isfinite(value)) return std::string("must be a finite number");
  const auto text = [](double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  };
  const bool low_ok = min_exclusive ? value > min : value >= min;
  const bool high_ok = max_exclusive ? value < max : value <= max;
  if (low_ok && high_ok) return std::nullopt;
  if (std::isfinite(min) && std::isfinite(max)) {
    return "must be in " + std::string(min_exclusive ? "(" : "[") + text(min) + ", " + text(max) +
           (max_exclusive ? ")" : "]");
  }
  if (!low_ok) return "must be " + std::string(min_exclusive ? "> " : ">= ") + text(min);
  return "must be " + std::string(max_exclusive ? "< " : "<= ") + text(max);
}

void Problems::add(std::string key_path, std::string message) {
  items_.push_back({std::move(key_path), std::move(message)});
}

}  // namespace cltci::config
