// The six pre-training methods behind one interface: CL-TCI-MoCo, MoCo, CL-TCI-SimCLR, SimCLR,
// Rotation and PIRL. A method owns its modules (an encoder plus a head, and for MoCo their
// momentum copies), computes the loss of a batch, does its work after the optimizer step (MoCo:
// momentum update and enqueue; PIRL: memory bank), saves and restores everything a resumed run
// needs, and hands out the query encoder for export. The trainer (engine/) owns the loop.
#pragma once

#include "cltci/dist/group.h"
#include "cltci/models/encoder.h"
#include "cltci/models/model_factory.h"
#include "cltci/ssl/positives.h"
#include "cltci/ssl/supcon.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cltci::ssl {

class MoCoQueue;
class PirlMemoryBank;

/// Names accepted by make_method (the config's method.name).
const std::vector<std::string>& method_names();

/// True for the CL-TCI methods, whose positives are other images of the patient (and which
/// therefore read method.positives).
bool uses_patient_positives(const std::string& method_name);

struct MethodOptions {
  std::string name = "cltci_moco";
  double temperature = 0.1;
  /// SupCon scale tau/base_tau as in the authors' code; 0: no scaling (eq. 2 itself).
  double base_temperature = 0.0;
  std::int64_t embedding_dim = 512;
  std::int64_t queue_size = 3072;  ///< MoCo
  double momentum = 0.999;         ///< MoCo key encoder momentum m
  /// MoCo: the key encoder sees the batch permuted and cut into sub-batches (split-batch BN).
  bool shuffle_bn = false;
  std::int64_t pirl_negatives = 128;
  double pirl_bank_momentum = 0.5;
  /// Bytes one chunk of contrastive logits may take (beyond it the loss is computed in chunks).
  std::int64_t loss_memory_bytes = std::int64_t{512} << 20;
  /// Images in the data set (PIRL's memory bank has one entry per image); image side (PIRL's
  /// jigsaw geometry).
  std::int64_t dataset_size = 0;
  std::int64_t image_size = 256;
  /// CL-TCI-MoCo / CL-TCI-SimCLR: which same-patient pairs are positives (issue #13). The
  /// rules that read times or studies look them up by data set index in image_days (NaN:
  /// undated) and image_studies (-1: unknown), one entry per image.
  PositiveOptions positives;
  std::vector<double> image_days;
  std::vector<std::int64_t> image_studies;
  /// Drives every random draw of the method (shuffle-BN permutations, jigsaw offsets and
  /// orders, PIRL negatives, the bank's initial entries), mixed with the global step.
  std::uint64_t seed = 0;
  /// Data-parallel runs: each rank's batch is its slice of the global batch, and the methods
  /// make the global batch whole where the loss needs it. SimCLR / CL-TCI-SimCLR gather the
  /// features (with gradient) and their patient labels, so every anchor is contrasted with the
  /// global batch; MoCo / CL-TCI-MoCo gather the keys with their labels before enqueueing (one
  /// queue, identical on every rank) and shuffle BatchNorm across ranks; PIRL gathers the bank
  /// updates (one bank, identical on every rank). Null or one process: none of it.
  std::shared_ptr<dist::Group> group;
};

/// A batch as the methods consume it: two augmented views of B images (Rotation and PIRL use
/// only view1), their patient numbers and data set indices.
struct MethodBatch {
  at::Tensor view1;    ///< [B, C, S, S] float
  at::Tensor view2;    ///< [B, C, S, S] float
  at::Tensor patient;  ///< [B] int64
  at::Tensor index;    ///< [B] int64
};

class Method {
 public:
  virtual ~Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;

  const std::string& name() const { return name_; }
  /// True when batches must be P patients x K images (CL-TCI-SimCLR), false for random batches.
  virtual bool patient_batches() const { return false; }
  /// The parameters the optimizer updates (MoCo's key encoder is not among them).
  std::vector<at::Tensor> trainable_parameters() const;
  /// Scalar loss of `batch`, connected to the trainable parameters. `step` is the global step:
  /// it seeds the method's random draws, so a resumed run draws the same numbers.
  virtual at::Tensor loss(const MethodBatch& batch, std::int64_t step) = 0;
  /// After the optimizer step of the batch last passed to loss().
  virtual void after_step() {}
  /// Every module by name ("encoder", "head", and MoCo's "key_encoder", "key_head").
  const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& modules() const {
    return modules_;
  }
  /// The encoder that pre-training produces (MoCo: the query encoder).
  const std::shared_ptr<models::Encoder>& encoder() const { return encoder_; }
  /// The projection head on pooled encoder features [N, C] -> [N, D] (not normalised), for the
  /// representation probes; an undefined tensor for methods without one (Rotation).
  virtual at::Tensor project(const at::Tensor& /*pooled*/) { return {}; }
  /// The loss when every logit is equal, i.e. the encoder tells no image apart: log of the
  /// number of valid contrast entries per anchor at the current state (MoCo: own key + the
  /// queue as filled now), times the SupCon scale. 0 when the method has no such value.
  virtual double collapse_loss() const { return 0.0; }
  /// CL-TCI-MoCo / CL-TCI-SimCLR: the positive pairs of the steps since the last call, averaged
  /// over their anchors (what a user needs to see a window that is too tight for the data);
  /// nullopt for methods without patient positives or when no step ran.
  virtual std::optional<PositiveCounts> take_positive_counts() { return std::nullopt; }
  /// MoCo's queue and PIRL's bank, nullptr for the other methods.
  virtual const MoCoQueue* queue() const { return nullptr; }
  virtual const PirlMemoryBank* memory_bank() const { return nullptr; }

  /// Modules (parameters and buffers) plus queue / bank.
  virtual void save_state(torch::serialize::OutputArchive& archive) const;
  virtual void load_state(torch::serialize::InputArchive& archive);
  virtual void train(bool on);
  virtual void to(c10::Device device);

 protected:
  Method(std::string name, std::shared_ptr<models::Encoder> encoder);
  void add_module(std::string name, std::shared_ptr<torch::nn::Module> module, bool trainable);

  std::string name_;
  std::shared_ptr<models::Encoder> encoder_;
  c10::Device device_{c10::kCPU};

 private:
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules_;
  std::vector<std::shared_ptr<torch::nn::Module>> trainable_;
};

/// Builds the method `options.name` around encoders made from `spec` (throws common::InputError
/// for an unknown name or values the method cannot use, naming the config key).
std::unique_ptr<Method> make_method(const MethodOptions& options, const models::ModelSpec& spec);

/// The families make_method dispatches to. MoCo: "cltci_moco" (positives: own key + queue
/// entries of the same patient) or "moco" (own key only). SimCLR: "cltci_simclr" (SupCon with
/// patient labels over P x K batches) or "simclr" (NT-Xent over random batches).
std::unique_ptr<Method> make_moco(const MethodOptions& options, const models::ModelSpec& spec);
std::unique_ptr<Method> make_simclr(const MethodOptions& options, const models::ModelSpec& spec);
std::unique_ptr<Method> make_rotation(const MethodOptions& options, const models::ModelSpec& spec);
std::unique_ptr<Method> make_pirl(const MethodOptions& options, const models::ModelSpec& spec);

}  // namespace cltci::ssl
