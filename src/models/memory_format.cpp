#include "cltci/models/memory_format.h"

#include <c10/core/MemoryFormat.h>
#include <c10/util/Exception.h>

namespace cltci::models {

void use_channels_last(torch::nn::Module& module) {
  for (auto& parameter : module.parameters()) {
    if (parameter.dim() == 4)
      parameter.set_data(parameter.contiguous(at::MemoryFormat::ChannelsLast));
  }
  for (auto& buffer : module.buffers()) {
    if (buffer.dim() == 4) buffer.set_data(buffer.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

at::Tensor channels_last_input(const at::Tensor& input, bool on) {
  if (!on) return input;
  TORCH_CHECK(input.dim() == 4, "channels_last_input: expected [N, C, H, W], got ", input.sizes());
  return input.contiguous(at::MemoryFormat::ChannelsLast);
}

}  // namespace cltci::models
