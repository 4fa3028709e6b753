// Where tensors live and how many threads torch may use.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace cltci::common {

/// Parses `auto | cpu | cuda | cuda:N`. `auto` picks cuda:0 when a GPU is there, else the CPU.
/// Asking for CUDA where there is none (or for a GPU index that does not exist) is an InputError
/// that says how many GPUs were found.
c10::Device resolve_device(const std::string& spec);

/// The CPUs this process may run on: its affinity mask (a SLURM allocation, `taskset`, a
/// container's cpuset), not every CPU of the node that std::thread::hardware_concurrency counts.
int available_cpus();

/// What "0 threads" means: OMP_NUM_THREADS where it is set to a positive count (as PyTorch reads
/// it; launchers and schedulers that put several processes on one node set it per process), else
/// the available CPUs shared among `processes_per_node` processes (at least 1 each).
int default_thread_count(int processes_per_node = 1);

/// Sets torch's intra-op thread count; 0 means default_thread_count(). Returns the count in
/// effect. Why this matters: the OpenMP default here is 1 thread, which made a ResNet-50 step 4x
/// slower than with 2 on this kind of machine; and more threads than CPUs is worse than fewer:
/// two 2-thread processes on 2 CPUs ran a fine-tuning 5x slower each than one alone, OpenMP's
/// threads spinning while they wait for each other (docs/benchmarks.md).
int apply_thread_count(int threads, int processes_per_node = 1);

/// `tensor` as `dtype` on `device`, without making the host wait for the device: a host tensor
/// bound for a GPU is converted on the host, staged in pinned memory and copied asynchronously
/// (the caching host allocator keeps the staging block until the copy has run). A plain
/// `.to(cuda)` waits for the stream to drain, from pinned memory too, so that inside a training
/// step it stalls the host until every kernel queued before it has finished.
at::Tensor to_device_async(const at::Tensor& tensor, c10::Device device, c10::ScalarType dtype);

}  // namespace cltci::common
