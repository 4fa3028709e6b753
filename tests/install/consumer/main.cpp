// Uses the installed library without torch/torch.h, so this check compiles in seconds.
#include "cltci/build_info.h"
#include "cltci/config/config_loader.h"
#include "cltci/config/pretrain_config.h"

#include <iostream>

int main() {
  const auto config = cltci::config::load_pretrain_config({}, {"optim.lr=0.5"});
  std::cout << "cltci " << CLTCI_VERSION << " lr " << config.optim.lr << " distance "
            << cltci::config::edit_distance("lrr", "lr") << "\n";
  return config.optim.lr == 0.5 ? 0 : 1;
}
