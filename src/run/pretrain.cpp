#include "cltci/run/pretrain.h"

#include "cltci/common/error.h"

namespace cltci::run {

int pretrain(const config::PretrainConfig& /*config*/, const RunOptions& /*options*/) {
  // The config is valid (loading checked it); the pipeline behind it is issue #5.
  throw common::Error(
      "pretrain: the config is valid, but this build has no pretrain pipeline yet "
      "(issue #5); nothing was written");
}

}  // namespace cltci::run
