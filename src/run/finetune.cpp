#include "cltci/run/finetune.h"

#include "cltci/common/error.h"

namespace cltci::run {

int finetune(const config::FinetuneConfig& /*config*/, const RunOptions& /*options*/) {
  // The config is valid (loading checked it); the pipeline behind it is issue #6.
  throw common::Error(
      "finetune: the config is valid, but this build has no finetune pipeline yet "
      "(issue #6); nothing was written");
}

}  // namespace cltci::run
