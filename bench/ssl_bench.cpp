// Prints the contrastive loss figures of issue 5:
//  (a) 4,096 anchors vs 65,536 keys, dim 128, chunked forward + backward: time and peak extra
//      resident memory (target < 1 GB);
//  (b) full vs chunked forward + backward where both fit (default 4,096 x 8,192): time ratio
//      (target chunked <= 1.3x full).
// Usage: ssl_bench [threads=2] [repeats=3]
#include "cli_common.h"
#include "cltci/ssl/supcon.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

/// A field of /proc/self/status in KiB (VmRSS, VmHWM).
long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so the next peak belongs to what follows.
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct Problem {
  torch::Tensor anchors, keys, anchor_ids, key_ids;
};

Problem make_problem(std::int64_t nq, std::int64_t nk, std::int64_t dim, std::int64_t patients) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  Problem p;
  p.anchors = torch::randn({nq, dim}, gen, torch::kFloat);
  p.keys = torch::randn({nk, dim}, gen, torch::kFloat);
  p.keys.slice(0, 0, nq).copy_(p.anchors);  // the anchors are the first keys (self_offset 0)
  p.key_ids = torch::randint(patients, {nk}, gen, torch::kLong);
  p.anchor_ids = p.key_ids.slice(0, 0, nq).clone();
  return p;
}

struct Run {
  double seconds = 0;
  double loss = 0;
  long peak_extra_kib = 0;
};

Run run_once(const Problem& p, cltci::ssl::LossPath path, std::int64_t budget) {
  cltci::ssl::ContrastiveInputs in;
  in.anchors = p.anchors.clone().requires_grad_(true);
  in.keys = p.keys.clone().requires_grad_(true);
  in.anchor_ids = p.anchor_ids;
  in.key_ids = p.key_ids;
  in.self_offset = 0;
  cltci::ssl::SupConOptions options;
  options.path = path;
  options.memory_budget_bytes = budget;
  reset_peak();
  const long rss_before = status_kib("VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  auto loss = cltci::ssl::contrastive_loss(in, options);
  loss.backward();
  const auto t1 = std::chrono::steady_clock::now();
  Run r;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.loss = loss.item<double>();
  r.peak_extra_kib = status_kib("VmHWM") - rss_before;
  return r;
}

Run best_of(const Problem& p,
            cltci::ssl::LossPath path,
            int repeats,
            std::int64_t budget = std::int64_t{256} << 20) {
  Run best;
  best.seconds = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const Run r = run_once(p, path, budget);
    if (r.seconds < best.seconds) best = r;
    best.peak_extra_kib = std::max(best.peak_extra_kib, r.peak_extra_kib);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  int repeats = 3;
  return cltci::apps::run_tool_main(
      "ssl_bench", "Time and peak memory of the SupCon loss, full and chunked", argc, argv,
      [&](CLI::App& app) {
        app.add_option("threads", threads, "torch intra-op threads")->check(CLI::Range(1, 1024));
        app.add_option("repeats", repeats, "best of this many runs")->check(CLI::Range(1, 1000));
      },
      [&] {
        at::set_num_threads(threads);
        std::printf(
            "ssl_bench: %d threads, best of %d, float32, dim 128, default 256 MiB chunk budget\n",
            threads, repeats);

        {
          const Problem p = make_problem(4096, 65536, 128, 2048);
          const Run r = best_of(p, cltci::ssl::LossPath::kChunked, repeats);
          std::printf(
              "(a) chunked 4096 x 65536: fwd+bwd %.3f s, peak extra RSS %.1f MiB, loss %.4f\n",
              r.seconds, r.peak_extra_kib / 1024.0, r.loss);
        }
        {
          const Problem p = make_problem(4096, 8192, 128, 1024);
          const Run full = best_of(p, cltci::ssl::LossPath::kFull, repeats);
          std::printf(
              "(b) full      4096 x 8192: fwd+bwd %.3f s, peak extra RSS %.1f MiB, loss %.6f\n",
              full.seconds, full.peak_extra_kib / 1024.0, full.loss);
          // 256 MiB holds 4,096 rows of 8,192 keys (one chunk); 32 MiB forces 8 chunks of 512 rows.
          for (const std::int64_t mib : {256, 32}) {
            const Run chunked = best_of(p, cltci::ssl::LossPath::kChunked, repeats, mib << 20);
            std::printf(
                "(b) chunked   4096 x 8192, %3lld MiB budget: fwd+bwd %.3f s (%.2fx full), "
                "peak extra RSS %.1f MiB, loss %.6f\n",
                static_cast<long long>(mib), chunked.seconds, chunked.seconds / full.seconds,
                chunked.peak_extra_kib / 1024.0, chunked.loss);
          }
        }
        return 0;
      });
}
