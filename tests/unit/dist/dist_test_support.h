// Ranks on loopback for the dist tests: the test plays torchrun's agent (it serves the
// rendezvous store on a free port) and every rank joins it as a client, as under torchrun.
#pragma once

#include "cltci/dist/group.h"

#include <chrono>
#include <functional>
#include <memory>

namespace cltci::dist::testing {

/// The launch of rank `rank` of `world` against the store served on `port`.
LaunchInfo loopback_launch(int rank, int world, int port);
GroupOptions loopback_options(std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A rendezvous store on a free loopback port, served by this process.
class LoopbackStore {
 public:
  LoopbackStore();
  ~LoopbackStore();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

/// Runs `body(group)` on `world` ranks, one thread each, and rethrows the first rank's failure.
void run_ranks(int world, const std::function<void(const std::shared_ptr<Group>&)>& body);

}  // namespace cltci::dist::testing
