#include "dist_test_support.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace cltci::dist::testing {

struct LoopbackStore::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

LoopbackStore::LoopbackStore() : impl_(std::make_unique<Impl>()) {
  // The ranks of these tests are threads of one process, each with its own backend. torch's
  // flight recorder (c10d::FlightRecorder, one per process) inserts a group it has not seen into
  // its map before taking its lock, so two ranks' first collectives can corrupt that map:
  // TrainerAcrossRanksTest segfaulted in FlightRecorder::recordWithResetEnabled about once in a
  // few hundred runs, never once in 1,600 with the recorder off. It reads this variable once,
  // when first used; every in-process group of the tests is made after a LoopbackStore.
  ::setenv("TORCH_FR_BUFFER_SIZE", "0", /*overwrite=*/1);
  c10d::TCPStoreOptions options;
  options.port = 0;  // the kernel picks a free one: no clash between tests run in parallel
  options.isServer = true;
  options.waitWorkers = false;
  options.timeout = std::chrono::seconds(30);
  impl_->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
  port_ = impl_->store->getPort();
}

LoopbackStore::~LoopbackStore() = default;

LaunchInfo loopback_launch(int rank, int world, int port) {
  LaunchInfo launch;
  launch.launcher = Launcher::kTorchrun;
  launch.rank = rank;
  launch.world_size = world;
  launch.local_rank = rank;
  launch.local_world_size = world;
  launch.master_addr = "127.0.0.1";
  launch.master_port = port;
  launch.agent_store = true;
  return launch;
}

GroupOptions loopback_options(std::chrono::milliseconds timeout) {
  GroupOptions options;
  options.timeout = timeout;
  options.gloo_interface = "lo";
  return options;
}

void run_ranks(int world, const std::function<void(const std::shared_ptr<Group>&)>& body) {
  LoopbackStore store;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(world));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(world));
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        body(Group::join(loopback_launch(rank, world, store.port()), loopback_options()));
      } catch (...) {
        errors[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace cltci::dist::testing
