// How much patient identity each phantom version carries in its raw pixels: for v1 and v2, at
// the network's input size (square padding and resizing as the cache does), the mean RMS pixel
// distance between two films of one patient and between films of two patients, their ratio,
// and leave-one-out 1-NN same-patient retrieval over the pixel vectors (Euclidean on raw
// pixels; cosine on per-image standardised pixels, which ignores exposure), with its chance
// level. CL-TCI's premise is that films of one patient are each other's neighbours: a phantom
// on which that fails cannot test it (docs/phantom.md).
//
//   cltci_phantom_bench [--size 64] [--patients 60] [--images 2 6] [--seed 7]
//                       [--native H W] [--versions 1,2]
//
// The defaults are the data section's (SourceConfig): 60 patients of 2-6 films, 320x288 (H x W),
// seed 7.
#include "cli_common.h"
#include "cltci/data/phantom.h"
#include "cltci/data/square_geometry.h"

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Figures {
  std::size_t images = 0;
  double same = 0, between = 0;  // mean RMS distances
  double top1_raw = 0, top1_standardised = 0, chance = 0;
  std::size_t queries = 0;
};

double rms(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(a.size()));
}

// Zero mean, unit variance: Euclidean distance then ranks like cosine similarity.
std::vector<float> standardised(const std::vector<float>& v) {
  double mean = 0, square = 0;
  for (const float x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (const float x : v) square += (x - mean) * (x - mean);
  const double scale = 1.0 / std::sqrt(square / static_cast<double>(v.size()) + 1e-12);
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>((v[i] - mean) * scale);
  return out;
}

// Leave-one-out 1-NN: share of queries (images whose patient has another image) whose nearest
// other image belongs to their patient; ties go to the lower index.
double top1(const std::vector<std::vector<double>>& distance,
            const std::vector<int>& patient,
            const std::vector<int>& count) {
  std::size_t hits = 0, queries = 0;
  for (std::size_t i = 0; i < distance.size(); ++i) {
    if (count[static_cast<std::size_t>(patient[i])] < 2) continue;
    ++queries;
    std::size_t best = i;
    double best_distance = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < distance.size(); ++j) {
      if (j != i && distance[i][j] < best_distance) {
        best_distance = distance[i][j];
        best = j;
      }
    }
    if (patient[best] == patient[i]) ++hits;
  }
  return queries == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(queries);
}

Figures measure(const cltci::data::PhantomOptions& options, int size) {
  using namespace cltci::data;
  const std::vector<PhantomEntry> plan = phantom_plan(options);
  std::vector<std::vector<float>> raw, standard;
  std::vector<int> patient;
  std::vector<int> count(static_cast<std::size_t>(options.patients), 0);
  for (const PhantomEntry& entry : plan) {
    const cv::Mat square =
        square_resize_image(render_phantom(options, entry.patient, entry.order).image, size);
    std::vector<float> v(square.begin<float>(), square.end<float>());
    standard.push_back(standardised(v));
    raw.push_back(std::move(v));
    patient.push_back(entry.patient);
    ++count[static_cast<std::size_t>(entry.patient)];
  }
  const std::size_t n = raw.size();
  std::vector<std::vector<double>> d_raw(n, std::vector<double>(n, 0.0));
  std::vector<std::vector<double>> d_standard = d_raw;
  double same = 0, between = 0;
  std::size_t same_pairs = 0, between_pairs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      d_raw[i][j] = d_raw[j][i] = rms(raw[i], raw[j]);
      d_standard[i][j] = d_standard[j][i] = rms(standard[i], standard[j]);
      if (patient[i] == patient[j]) {
        same += d_raw[i][j];
        ++same_pairs;
      } else {
        between += d_raw[i][j];
        ++between_pairs;
      }
    }
  }
  Figures f;
  f.images = n;
  f.same = same_pairs ? same / static_cast<double>(same_pairs) : 0.0;
  f.between = between_pairs ? between / static_cast<double>(between_pairs) : 0.0;
  f.top1_raw = top1(d_raw, patient, count);
  f.top1_standardised = top1(d_standard, patient, count);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = count[static_cast<std::size_t>(patient[i])];
    if (c < 2) continue;
    ++f.queries;
    f.chance += static_cast<double>(c - 1) / static_cast<double>(n - 1);
  }
  if (f.queries > 0) f.chance /= static_cast<double>(f.queries);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  cltci::data::PhantomOptions options;
  options.seed = 7;
  options.patients = 60;
  options.min_images = 2;
  options.max_images = 6;
  options.height = 320;
  options.width = 288;
  int size = 64;
  std::vector<int> versions{1, 2};
  std::vector<int> images{options.min_images, options.max_images};
  std::vector<int> native{options.height, options.width};
  return cltci::apps::run_tool_main(
      "cltci_phantom_bench",
      "How much patient identity each phantom version carries in its raw pixels", argc, argv,
      [&](CLI::App& app) {
        app.add_option("--size", size, "side the films are padded and resized to")
            ->check(CLI::Range(8, 4096));
        app.add_option("--patients", options.patients, "patients of the phantom")
            ->check(CLI::Range(2, 1 << 20));
        app.add_option("--seed", options.seed, "the phantom's seed");
        app.add_option("--images", images, "MIN MAX films per patient")->expected(2);
        app.add_option("--native", native, "H W: the films' size before padding")->expected(2);
        app.add_option("--versions", versions, "generator versions (comma-separated)")
            ->delimiter(',')
            ->check(
                CLI::Range(cltci::data::kFirstPhantomVersion, cltci::data::kLatestPhantomVersion));
      },
      [&] {
        options.min_images = images[0];
        options.max_images = images[1];
        options.height = native[0];
        options.width = native[1];
        options.validate();
        std::printf("phantom %d patients, %d-%d films, native %dx%d (HxW), seed %llu, at %d^2\n",
                    options.patients, options.min_images, options.max_images, options.height,
                    options.width, static_cast<unsigned long long>(options.seed), size);
        std::printf("%-8s %7s %10s %10s %7s %11s %13s %8s\n", "version", "images", "same-RMS",
                    "other-RMS", "ratio", "top1-raw", "top1-std-cos", "chance");
        for (const int version : versions) {
          options.version = version;  // in range: checked with the flags
          const Figures f = measure(options, size);
          std::printf("v%-7d %7zu %10.4f %10.4f %7.3f %11.3f %13.3f %8.3f\n", version, f.images,
                      f.same, f.between, f.between > 0 ? f.same / f.between : 0.0, f.top1_raw,
                      f.top1_standardised, f.chance);
        }
        return 0;
      });
}
