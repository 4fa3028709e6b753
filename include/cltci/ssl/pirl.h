// PIRL with the jigsaw transform (Misra & van der Maaten 2020), the paper's PIRL baseline:
// 3x3 jigsaw patches, a memory bank of image embeddings updated with momentum, and an NCE-style
// softmax loss against negatives sampled from the bank.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace cltci::ssl {

/// A 3x3 grid of cells of floor(S/3) pixels; one patch of `patch` = cell - slack pixels per cell,
/// at a random offset in [0, slack] inside its cell. For S = 256: cell 85, patch 80, slack 5, the
/// authors' numbers.
struct JigsawGeometry {
  std::int64_t image_size = 0;
  std::int64_t cell = 0;
  std::int64_t patch = 0;
  std::int64_t slack = 0;
};

/// slack < 0 picks round(cell * 5 / 85) (at least 1), the authors' ratio. InputError when the
/// image is smaller than 3 px per cell or the slack leaves no patch.
JigsawGeometry jigsaw_geometry(std::int64_t image_size, std::int64_t slack = -1);

struct JigsawPatches {
  at::Tensor patches;  ///< [B, 9, C, patch, patch], cells in row-major order
  at::Tensor offsets;  ///< [B, 9, 2] int64 (row, col) of each patch's top-left pixel in the image
};

/// Cuts the patches from square images [B, C, S, S]. Pixels are copied, never rescaled, so any
/// dtype keeps its values (the authors' uint8 input wrapped round through a *255).
JigsawPatches extract_jigsaw_patches(const at::Tensor& images,
                                     const JigsawGeometry& geometry,
                                     std::uint64_t seed);

/// One random permutation of the 9 patch positions per image: [batch, 9] int64.
at::Tensor jigsaw_permutations(std::int64_t batch, std::uint64_t seed);

/// out[b, i] = x[b, permutation[b, i]] for x [B, 9, ...]: the patch (or patch embedding) order
/// seen by the jigsaw head.
at::Tensor permute_patches(const at::Tensor& x, const at::Tensor& permutation);

/// One unit-norm embedding per training image, indexed by dataset index.
class PirlMemoryBank {
 public:
  /// size >= 2, dim > 0, momentum in [0, 1]; entries start as seeded random unit vectors.
  PirlMemoryBank(std::int64_t size,
                 std::int64_t dim,
                 std::uint64_t seed,
                 double momentum = 0.5,
                 c10::Device device = c10::Device(c10::kCPU));

  /// Entries of the given dataset indices [n] (no gradient): [n, dim].
  at::Tensor entries(const at::Tensor& indices) const;

  /// k negatives per image, uniform over the other size - 1 entries (never the image itself):
  /// [n, k] int64.
  at::Tensor sample_negatives(const at::Tensor& indices, std::int64_t k, std::uint64_t seed) const;

  /// bank[i] <- normalise(momentum * bank[i] + (1 - momentum) * normalise(feature)), for distinct
  /// indices.
  void update(const at::Tensor& indices, const at::Tensor& features);

  const at::Tensor& bank() const { return bank_; }
  void load_state(const at::Tensor& bank);
  std::int64_t size() const { return bank_.size(0); }
  double momentum() const { return momentum_; }

 private:
  at::Tensor bank_;
  double momentum_;
};

/// Softmax NCE of each feature [B, D] against its positive [B, D] and negatives [B, k, D]:
/// cross-entropy with target 0 over cos / temperature. Features are normalised inside; the
/// positives and negatives (bank entries) are used as given.
at::Tensor pirl_nce_loss(const at::Tensor& features,
                         const at::Tensor& positives,
                         const at::Tensor& negatives,
                         double temperature);

/// The PIRL objective: 0.5 * NCE(image embedding vs bank) + 0.5 * NCE(jigsaw embedding vs bank),
/// the positive being the bank entry of the same image, both terms sharing k sampled negatives.
/// The caller updates the bank with the image embeddings afterwards.
at::Tensor pirl_loss(const at::Tensor& image_features,
                     const at::Tensor& jigsaw_features,
                     const PirlMemoryBank& bank,
                     const at::Tensor& indices,
                     std::int64_t num_negatives,
                     double temperature,
                     std::uint64_t seed);

}  // namespace cltci::ssl
