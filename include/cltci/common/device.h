// Where tensors live and how many threads torch may use.
#pragma once

#include <c10/core/Device.h>

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

}  // namespace cltci::common
