#include "cltci/run/segmentation_model.h"

#include "cltci/common/error.h"
#include "cltci/models/safetensors.h"
#include "cltci/models/state_dict.h"
#include "cltci/models/weights_io.h"

#include <sstream>
#include <string>
#include <vector>

namespace cltci::run {
namespace {

std::string join(const std::vector<int64_t>& values) {
  std::string out;
  for (auto v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

std::vector<int64_t> split(const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) values.push_back(std::stoll(item));
  return values;
}

}  // namespace

void save_segmentation_model(const SegmentationModel& model, const std::filesystem::path& file) {
  models::WeightsExportOptions options;
  const auto& s = model.spec;
  options.metadata = {{"format", "cltci-segmentation-1"},
                      {"arch", s.arch},
                      {"in_channels", std::to_string(s.in_channels)},
                      {"classes", std::to_string(s.classes)},
                      {"base_channels", std::to_string(s.base_channels)},
                      {"depth", std::to_string(s.depth)},
                      {"norm", s.norm},
                      {"output_stride", std::to_string(s.output_stride)},
                      {"aspp_rates", join(s.aspp_rates)},
                      {"aspp_separable", s.aspp_separable ? "1" : "0"},
                      {"image_size", std::to_string(model.image_size)}};
  models::export_weights(*model.net, file, options);
}

SegmentationModel load_segmentation_model(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw common::InputError(file.string() + ": model checkpoint not found");
  }
  const auto contents = models::read_safetensors(file);
  const auto& meta = contents.metadata;
  const auto format = meta.find("format");
  if (format == meta.end() || format->second != "cltci-segmentation-1") {
    throw common::InputError(file.string() +
                             ": not a segmentation model of this toolkit (no cltci-segmentation "
                             "metadata); pass a fold*/m*/model.safetensors of a finetune run");
  }
  SegmentationModel model;
  try {
    auto& s = model.spec;
    s.arch = meta.at("arch");
    s.in_channels = std::stoll(meta.at("in_channels"));
    s.classes = std::stoll(meta.at("classes"));
    s.base_channels = std::stoll(meta.at("base_channels"));
    s.depth = std::stoll(meta.at("depth"));
    s.norm = meta.at("norm");
    s.output_stride = std::stoll(meta.at("output_stride"));
    s.aspp_rates = split(meta.at("aspp_rates"));
    s.aspp_separable = meta.at("aspp_separable") == "1";
    model.image_size = std::stoi(meta.at("image_size"));
  } catch (const std::exception& error) {
    throw common::InputError(file.string() + ": incomplete model metadata (" + error.what() + ")");
  }
  model.net = models::make_segmentation_net(model.spec);
  const auto report = models::load_state_dict(*model.net, contents.tensors);
  if (!report.missing.empty()) {
    throw common::InputError(file.string() + ": holds no '" + report.missing.front() + "' (" +
                             std::to_string(report.missing.size()) +
                             " tensors of the described network are missing)");
  }
  model.net->eval();
  return model;
}

}  // namespace cltci::run
