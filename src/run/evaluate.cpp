#include "cltci/run/evaluate.h"

#include "cltci/common/error.h"

namespace cltci::run {

int evaluate(const config::EvaluateConfig& /*config*/, const RunOptions& /*options*/) {
  // The config is valid (loading checked it); the pipeline behind it is issue #6.
  throw common::Error(
      "evaluate: the config is valid, but this build has no evaluate pipeline yet "
      "(issue #6); nothing was written");
}

}  // namespace cltci::run
