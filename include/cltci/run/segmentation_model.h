// A fine-tuned segmentation model on disk: its weights as safetensors, with the architecture and
// input size in the file's metadata, so `evaluate --checkpoint` needs nothing else.
#pragma once

#include "cltci/models/encoder.h"
#include "cltci/models/model_factory.h"

#include <filesystem>
#include <memory>

namespace cltci::run {

struct SegmentationModel {
  models::ModelSpec spec;
  int image_size = 256;
  std::shared_ptr<models::SegmentationNet> net;
};

void save_segmentation_model(const SegmentationModel& model, const std::filesystem::path& file);

/// Builds the network the file describes and loads its weights. A file without the metadata, or
/// whose tensors do not fit the described network, is a common::InputError naming the file.
SegmentationModel load_segmentation_model(const std::filesystem::path& file);

}  // namespace cltci::run
