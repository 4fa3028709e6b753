#include "cltci/run/embed.h"

#include "cltci/analysis/probes.h"
#include "cltci/analysis/scatter_plot.h"
#include "cltci/analysis/tsne.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json_writer.h"
#include "cltci/common/run_directory.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_writers.h"
#include "cltci/models/model_factory.h"
#include "cltci/models/weights_io.h"
#include "cltci/run/bridges.h"
#include "cltci/run/embedding.h"
#include "cltci/run/pretrain.h"

#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;

int embed_pretrain_run(const config::EvaluateConfig& config, const RunOptions& options) {
  cv::setNumThreads(0);
  const fs::path pretrain_dir(config.pretrain_run);
  const fs::path pretrain_config = pretrain_dir / common::kRunConfigFile;
  const fs::path encoder_file = pretrain_dir / kEncoderFile;
  if (!fs::exists(pretrain_config) || !fs::exists(encoder_file)) {
    throw common::InputError("pretrain_run: " + pretrain_dir.string() +
                             " is not a finished pretrain run (it needs config.yaml and " +
                             kEncoderFile + ")");
  }
  const auto pretrain = config::load_pretrain_config(pretrain_config, {});
  const std::string effective_config = config::dump(config);
  check_run(config.run, effective_config, options);  // before the cache is built
  const auto dataset = open_dataset(pretrain.data);
  auto encoder = models::make_encoder(model_spec(pretrain.model));
  models::import_weights(*encoder, encoder_file);
  const std::vector<std::int64_t> indices =
      probe_set(dataset, config.embed.max_points, static_cast<std::uint64_t>(config.embed.seed));

  const auto context = open_run(config.run, effective_config, options);
  encoder->to(context.device);
  encoder->eval();
  const Embeddings embeddings = embed_images(*encoder, {}, dataset, indices, context.device);
  const auto probe = analysis::probe_embeddings(embeddings.pooled, embeddings.patients);
  spdlog::info(
      "[embed] {} images of {}: same-patient top-1 {:.3f} (chance {:.3f}), mAP {:.3f} "
      "(chance {:.3f}), effective rank {:.1f}",
      indices.size(), pretrain_dir.string(), probe.retrieval.top1, probe.retrieval.top1_chance,
      probe.retrieval.map, probe.retrieval.map_chance, probe.effective_rank);

  std::ostringstream csv;
  csv << "path,patient,order";
  const std::int64_t dims = embeddings.pooled.size(1);
  for (std::int64_t d = 0; d < dims; ++d) csv << ",e" << d;
  csv << "\n";
  csv.precision(7);
  const at::Tensor vectors = embeddings.pooled.contiguous();
  const float* values = vectors.data_ptr<float>();
  std::set<std::string> patients;
  std::vector<std::string> labels;
  for (std::size_t row = 0; row < indices.size(); ++row) {
    const std::int64_t i = indices[row];
    patients.insert(dataset.patient_id(i));
    labels.push_back(dataset.patient_id(i));
    csv << data::csv_field(dataset.name(i)) << ',' << data::csv_field(dataset.patient_id(i)) << ','
        << dataset.order(i);
    for (std::int64_t d = 0; d < dims; ++d) {
      csv << ',' << values[static_cast<std::int64_t>(row) * dims + d];
    }
    csv << '\n';
  }
  common::write_file_atomic(context.directory / "embeddings.csv", std::string_view(csv.str()));

  analysis::TsneOptions tsne;
  tsne.perplexity = config.embed.perplexity;
  tsne.iterations = config.embed.iterations;
  tsne.seed = static_cast<std::uint64_t>(config.embed.seed);
  // t-SNE needs more points than ~3 x perplexity; a small run gets a smaller one, said aloud.
  const double largest = (static_cast<double>(indices.size()) - 1.0) / 3.0;
  if (tsne.perplexity > largest) {
    spdlog::warn("[embed] embed.perplexity {} is too large for {} points; using {:.1f}",
                 tsne.perplexity, indices.size(), largest);
    tsne.perplexity = largest;
  }
  const at::Tensor map = analysis::tsne(embeddings.pooled, tsne);
  // Ids of one source share a prefix ("phantom:", "nih:"); beside a dot it is only clutter.
  if (!labels.empty()) {
    const std::size_t colon = labels.front().find(':');
    const std::string prefix =
        colon == std::string::npos ? "" : labels.front().substr(0, colon + 1);
    const bool shared =
        !prefix.empty() && std::all_of(labels.begin(), labels.end(), [&](const auto& l) {
          return l.compare(0, prefix.size(), prefix) == 0 && l.size() > prefix.size();
        });
    if (shared) {
      for (auto& label : labels) label.erase(0, prefix.size());
    }
  }
  char figures[160];
  std::snprintf(figures, sizeof figures,
                ": t-SNE of %zu images, %zu patients; same-patient top-1 %.2f (chance %.2f)",
                indices.size(), patients.size(), probe.retrieval.top1, probe.retrieval.top1_chance);
  analysis::ScatterPlotOptions plot;
  fs::path shown = pretrain_dir.lexically_normal();
  if (shown.filename().empty()) shown = shown.parent_path();  // "runs/x/"
  plot.title = shown.filename().string() + figures;
  data::write_png(context.directory / "tsne.png", analysis::scatter_plot(map, labels, plot));

  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  const common::JsonNumber figure = common::JsonNumber::significant(9);
  common::JsonWriter summary;
  summary.begin_object();
  summary.member("pretrain_run", pretrain_dir.string());
  summary.member("images", indices.size()).member("patients", patients.size());
  summary.member("dims", dims);
  summary.key("retrieval").begin_object(one_line);
  summary.member("top1", probe.retrieval.top1, figure);
  summary.member("top1_chance", probe.retrieval.top1_chance, figure);
  summary.member("map", probe.retrieval.map, figure);
  summary.member("map_chance", probe.retrieval.map_chance, figure);
  summary.end_object();
  summary.member("positive_cosine", probe.positive_cosine, figure);
  summary.member("negative_cosine", probe.negative_cosine, figure);
  summary.member("alignment", probe.alignment, figure);
  summary.member("uniformity", probe.uniformity, figure);
  summary.member("effective_rank", probe.effective_rank, figure);
  summary.key("tsne").begin_object(one_line);
  summary.member("perplexity", tsne.perplexity, figure);
  summary.member("iterations", tsne.iterations).member("seed", tsne.seed);
  summary.end_object();
  summary.key("files").begin_array(one_line).value("embeddings.csv").value("tsne.png").end_array();
  summary.end_object();
  common::write_file_atomic(context.directory / common::kRunSummaryFile,
                            std::string_view(summary.text()));
  std::cout << "same-patient retrieval of " << indices.size() << " images: top-1 "
            << probe.retrieval.top1 << " (chance " << probe.retrieval.top1_chance << "), mAP "
            << probe.retrieval.map << " (chance " << probe.retrieval.map_chance << ")\n";
  spdlog::info("[embed] embeddings.csv, tsne.png and summary.json in {}",
               context.directory.string());
  return 0;
}

}  // namespace cltci::run
