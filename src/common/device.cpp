#include "cltci/common/device.h"

#include "cltci/common/error.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <thread>

namespace cltci::common {

c10::Device resolve_device(const std::string& spec) {
  const bool cuda_available = torch::cuda::is_available();
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  if (spec == "auto") return cuda_available ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      const std::string digits = spec.substr(5);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
        throw InputError("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
      }
      index = std::stoi(digits);
    }
    if (!cuda_available) {
      throw InputError("device '" + spec +
                       "': CUDA was requested but no GPU is available (torch sees 0 devices)");
    }
    if (index >= gpus) {
      throw InputError("device '" + spec + "': only " + std::to_string(gpus) +
                       " GPU(s) are available (cuda:0 .. cuda:" + std::to_string(gpus - 1) + ")");
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw InputError("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
}

int apply_thread_count(int threads) {
  if (threads < 0) throw InputError("threads: must be >= 0 (got " + std::to_string(threads) + ")");
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  const int wanted = threads == 0 ? cores : threads;
  at::set_num_threads(wanted);
  return at::get_num_threads();
}

}  // namespace cltci::common
