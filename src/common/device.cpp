#include "cltci/common/device.h"

#include "cltci/common/error.h"

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdlib>
#include <sched.h>
#include <string>
#include <thread>

namespace cltci::common {

c10::Device resolve_device(const std::string& spec) {
  const bool cuda_available = torch::cuda::is_available();
  // c10::DeviceIndex is a signed char; a count is never negative.
  const int gpus = static_cast<unsigned char>(torch::cuda::device_count());
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

int available_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    const int count = CPU_COUNT(&mask);
    if (count > 0) return count;
  }
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

namespace {

// OMP_NUM_THREADS's first level ("8" or "8,2"); 0 when it is unset or not a positive count, which
// OpenMP itself ignores as well.
int omp_num_threads() {
  const char* value = std::getenv("OMP_NUM_THREADS");
  if (value == nullptr) return 0;
  const std::string text(value);
  const std::string first = text.substr(0, text.find(','));
  if (first.empty() || first.size() > 6 ||
      first.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoi(first);
}

}  // namespace

int default_thread_count(int processes_per_node) {
  if (const int requested = omp_num_threads(); requested > 0) return requested;
  return std::max(1, available_cpus() / std::max(1, processes_per_node));
}

int apply_thread_count(int threads, int processes_per_node) {
  if (threads < 0) throw InputError("threads: must be >= 0 (got " + std::to_string(threads) + ")");
  const int wanted = threads == 0 ? default_thread_count(processes_per_node) : threads;
  at::set_num_threads(wanted);
  return at::get_num_threads();
}

at::Tensor to_device_async(const at::Tensor& tensor, c10::Device device, c10::ScalarType dtype) {
  if (!device.is_cuda() || !tensor.device().is_cpu()) return tensor.to(device, dtype);
  at::Tensor host = tensor.to(dtype).contiguous();
  if (!host.is_pinned()) host = host.pin_memory();
  return host.to(device, dtype, /*non_blocking=*/true);
}

}  // namespace cltci::common
