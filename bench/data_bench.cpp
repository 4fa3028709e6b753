// Prints what the data pipeline delivers on this machine: the time to load a cached data set of
// phantom images and the augmented views per second of the contrastive loader per thread count.
//
//   cltci_data_bench [--images 3000] [--size 256] [--batch 32] [--views 4096] [--cache DIR]
//                    [--device cpu|cuda|cuda:N]
//
// Then the device placement's batched augmentation (augment.placement: device) on --device
// (default the CPU): the two views of a contrastive batch one call each, and through
// augment_views, which converts the cached images and takes their means once for both. The
// cached images and plans are uploaded before the clock starts, as Loader::to_device uploads
// them before it augments; on a GPU each timing ends with a synchronisation.
//
// The first run builds the cache (rendering the phantom); later runs with the same --cache reuse
// it. OpenCV's own thread pool is switched off so that the loader's workers are the only
// parallelism, as in training (which owns the other cores).
#include "cli_common.h"
#include "cltci/common/device.h"
#include "cltci/data/batch_augment.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/loader.h"
#include "cltci/data/phantom.h"

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <CLI/CLI.hpp>
#include <c10/core/Device.h>
#include <opencv2/core/utility.hpp>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cltci::data;
  int images = 3000, size = 256, batch = 32, views = 4096;
  std::filesystem::path cache_dir = std::filesystem::temp_directory_path() / "cltci_data_bench";
  std::string device_spec = "cpu";
  return cltci::apps::run_tool_main(
      "cltci_data_bench",
      "Cache load time, loader throughput and the batched augmentation's views/s", argc, argv,
      [&](CLI::App& app) {
        app.add_option("--images", images, "phantom images in the cache")
            ->check(CLI::Range(2, 1 << 24));
        app.add_option("--size", size, "side of the cached and augmented images")
            ->check(CLI::Range(8, 4096));
        app.add_option("--batch", batch, "images per batch (2 per patient)")
            ->check(CLI::Range(2, 4096));
        app.add_option("--views", views, "augmented views to time the loader on")
            ->check(CLI::Range(1, 1 << 30));
        app.add_option("--cache", cache_dir, "folder of the phantom cache (built on first use)");
        app.add_option("--device", device_spec,
                       "cpu | cuda | cuda:N: where the batched augmentation runs");
      },
      [&] {
        const c10::Device device = cltci::common::resolve_device(device_spec);
        cv::setNumThreads(0);

        // Five images per patient on average: as many patients as needed for `images`.
        PhantomOptions phantom;
        phantom.min_images = 5;
        phantom.max_images = 5;
        phantom.patients = (images + 4) / 5;
        std::vector<SourceRecord> records = phantom_sources(phantom);
        records.resize(static_cast<std::size_t>(images));
        CacheOptions options;
        options.image_size = size;
        const std::filesystem::path store =
            cache_dir / ("phantom_" + std::to_string(images) + "_" + std::to_string(size) + ".bin");

        auto start = std::chrono::steady_clock::now();
        CacheOutcome outcome{};
        load_or_build_cache(store, records, options, &outcome);
        if (outcome == CacheOutcome::kBuilt) {
          std::printf("cache build: %d phantom images %dx%d -> %d^2 in %.2f s (%d threads)\n",
                      images, phantom.width, phantom.height, size, seconds_since(start),
                      cltci::common::available_cpus());
        }
        // Best of 5 each, alternating, so that both find the file in the page cache and share the
        // noise of a busy machine.
        double load = 1e30, unverified = 1e30;
        for (int repeat = 0; repeat < 5; ++repeat) {
          start = std::chrono::steady_clock::now();
          read_cache(store, /*verify=*/false);
          unverified = std::min(unverified, seconds_since(start));
          start = std::chrono::steady_clock::now();
          read_cache(store);
          load = std::min(load, seconds_since(start));
        }
        const CachedDataset data = read_cache(store);
        std::printf(
            "cache load:  %lld images %d^2 (%.0f MiB) in %.3f s, best of 5 (%.3f s without the "
            "CRC32C checks, %d threads)\n",
            static_cast<long long>(data.size()), size,
            std::filesystem::file_size(store) / 1048576.0, load, unverified,
            cltci::common::available_cpus());

        const CachedSource source(data);
        PatientBatchSampler sampler(data.patient_indices(), {std::max(1, batch / 2), 2, true}, 1);
        for (const int workers : {1, 2}) {
          LoaderOptions loader_options;
          loader_options.workers = workers;
          loader_options.prefetch = 2 * workers;
          loader_options.seed = 1;
          Loader loader(source, loader_options);
          std::int64_t produced = 0;
          std::int64_t epoch = 0;
          start = std::chrono::steady_clock::now();
          while (produced < views) {
            loader.start_epoch(epoch, sampler.epoch(epoch));
            ++epoch;
            while (produced < views) {
              const auto next = loader.next();
              if (!next) break;
              produced += 2 * next->view1.size(0);
            }
          }
          const double elapsed = seconds_since(start);
          std::printf(
              "contrastive loader, %d thread%s: %.0f augmented %d^2 views/s "
              "(%lld views in %.2f s)\n",
              workers, workers == 1 ? "" : "s", produced / elapsed, size,
              static_cast<long long>(produced), elapsed);
        }

        // Deferred batches hold the cached images and both views' plans; the same batches go
        // through both paths, alternating, best of 5.
        LoaderOptions deferred;
        deferred.seed = 1;
        deferred.defer_augmentation = true;
        Loader loader(source, deferred);
        loader.start_epoch(0, sampler.epoch(0));
        struct Uploaded {
          at::Tensor source;
          AugmentPlan plan1, plan2;
        };
        std::vector<Uploaded> batches;
        for (int b = 0; b < 8; ++b) {
          auto next = loader.next();
          if (!next) break;
          batches.push_back(
              {next->source.to(device), next->plan1.to(device), next->plan2.to(device)});
        }
        const auto synchronize = [&] {
          if (device.is_cuda()) torch::cuda::synchronize(device.index());
        };
        // One untimed pass: the GPU's first calls pay for kernel loading and the caching allocator.
        for (const auto& b : batches) augment_views(b.source, {b.plan1, b.plan2}, size, false);
        synchronize();
        double per_view = 1e30, shared = 1e30;
        std::int64_t augmented = 0;
        for (int repeat = 0; repeat < 5; ++repeat) {
          augmented = 0;
          start = std::chrono::steady_clock::now();
          for (const auto& b : batches) {
            const at::Tensor view1 = augment_images(b.source, b.plan1, size, false);
            const at::Tensor view2 = augment_images(b.source, b.plan2, size, false);
            augmented += view1.size(0) + view2.size(0);
          }
          synchronize();
          per_view = std::min(per_view, seconds_since(start));
          start = std::chrono::steady_clock::now();
          for (const auto& b : batches) augment_views(b.source, {b.plan1, b.plan2}, size, false);
          synchronize();
          shared = std::min(shared, seconds_since(start));
        }
        const std::string where =
            device.is_cuda()
                ? "on " + device.str()
                : "on the CPU, " + std::to_string(at::get_num_threads()) + " intra-op threads";
        std::printf(
            "device augmentation %s, %lld views of batch %d: %.0f views/s one call per view, %.0f "
            "views/s the two views sharing one conversion (%.2fx)\n",
            where.c_str(), static_cast<long long>(augmented), batch, augmented / per_view,
            augmented / shared, per_view / shared);
        return 0;
      });
}
