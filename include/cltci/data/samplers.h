// Which samples go into which batch. Everything here is a pure function of (seed, epoch), so a
// resumed run replays the same batches, and the loader's worker count never changes them.
#pragma once

#include <cstdint>
#include <vector>

namespace cltci::data {

using Batch = std::vector<std::int64_t>;  ///< data set indices, in batch order

/// A permutation of `indices` for one epoch.
std::vector<std::int64_t> shuffled_epoch(std::vector<std::int64_t> indices,
                                         std::uint64_t seed,
                                         std::int64_t epoch);

/// Consecutive batches of `batch_size`; the last, shorter one is dropped when `drop_last`.
std::vector<Batch> make_batches(const std::vector<std::int64_t>& order,
                                std::int64_t batch_size,
                                bool drop_last);

struct PatientBatchOptions {
  std::int64_t patients_per_batch = 8;  ///< P
  std::int64_t images_per_patient = 2;  ///< K
  bool drop_last = false;               ///< drop the final batch with fewer than P patients
  double window_days = 0;   ///< > 0: a patient's K images lie within this of the first (0: off)
  bool same_study = false;  ///< a patient's K images come from the first image's study
};

/// Per data set image, what coherent groups are drawn by (indexed like `patient_of_image`).
struct ImageTimes {
  std::vector<double> days;         ///< acquisition time in days (NaN: undated); empty: none
  std::vector<std::int64_t> study;  ///< study number (-1: unknown); empty: none
};

/// CL-TCI-SimCLR batches: P patients x K images, so that every anchor has K-1 same-patient
/// positives besides its own second view (the reference code only gets them by chance).
///
/// Rules per epoch e:
/// - every patient that has images is visited exactly once, in an order shuffled with
///   derive_seed(seed, {e}); consecutive groups of P patients form the batches;
/// - a patient with n >= K images contributes K of them drawn without replacement;
/// - a patient with n < K images contributes all n, then K - n more drawn uniformly with
///   replacement from those n (so a one-image patient repeats that image K times; the loader
///   seeds augmentations by batch position, so the repeats are different views);
/// - within a batch, the K images of a patient are adjacent (patient-major order).
///
/// With a window (window_days > 0) or same_study, a patient's K images form a coherent group
/// instead (the two rules above about n are replaced):
/// - the first image is drawn uniformly among the patient's n images;
/// - another image of the patient is compatible with it when, with a window, both are dated
///   and |t - t_first| <= window_days, and, with same_study, both have the same known study
///   (both conditions when both are set); so the group spans at most 2 x window_days;
/// - the other K - 1 are drawn without replacement from the compatible ones; when fewer than
///   K - 1 are compatible, all of them are taken and the rest is drawn uniformly with
///   replacement from the compatible ones and the first (an undated first image under a window,
///   or one of unknown study under same_study, gives K copies of itself: K views of it);
/// - the first image comes first in the group.
/// Without a window or same_study the batches are exactly those of the rules above.
class PatientBatchSampler {
 public:
  /// `patient_of_image[i]` is the patient number of data set image i; `images` restricts the
  /// sampler to those data set indices (empty: all images); `times` gives what a window or
  /// same_study needs. Throws common::InputError when window_days is negative or not finite,
  /// when a window is set without times.days, or same_study without times.study.
  PatientBatchSampler(std::vector<std::int64_t> patient_of_image,
                      PatientBatchOptions options,
                      std::uint64_t seed,
                      const std::vector<std::int64_t>& images = {},
                      ImageTimes times = {});

  std::vector<Batch> epoch(std::int64_t epoch) const;
  std::int64_t patients() const { return static_cast<std::int64_t>(groups_.size()); }
  std::int64_t batches_per_epoch() const;

 private:
  bool coherent() const { return options_.window_days > 0 || options_.same_study; }
  bool compatible(std::int64_t first, std::int64_t other) const;

  PatientBatchOptions options_;
  std::uint64_t seed_;
  ImageTimes times_;
  std::vector<std::int64_t> patient_numbers_;      // patient of each group
  std::vector<std::vector<std::int64_t>> groups_;  // image indices per patient, ascending
};

/// One rank's part of an epoch's global batches (data-parallel training).
struct EpochShard {
  std::vector<Batch> batches;                 ///< this rank's slice of each kept global batch
  std::vector<std::int64_t> first_positions;  ///< each slice's first sample's position in the
                                              ///< global epoch (the loader's augmentation seeds)
  std::vector<std::int64_t> global_sizes;     ///< the size of each slice's global batch
  std::int64_t dropped = 0;                   ///< global batches too small to split
};

/// Rank r of w takes the r-th of w contiguous slices of every global batch, so that step s
/// over all ranks is exactly the single-process batch s (same images, same augmentation
/// seeds) and every sample of the epoch lands on exactly one rank. The slices are counted in
/// units of `unit` samples, so P x K patient batches (unit = K) give each rank whole patients.
/// With `equal` every slice has the same size and a batch whose size is not a multiple of
/// unit * w is dropped (the collectives of gathered features need equal shapes); without it
/// slices differ by at most one unit and only a batch of fewer than w units is dropped.
EpochShard shard_epoch(const std::vector<Batch>& batches,
                       int rank,
                       int world_size,
                       std::int64_t unit = 1,
                       bool equal = true);

/// Rank r of w takes indices r, r + w, ...; the list is first padded by wrapping around to a
/// multiple of w (as torch's DistributedSampler), so ranks get equal counts.
std::vector<std::int64_t> shard_indices(const std::vector<std::int64_t>& indices,
                                        int rank,
                                        int world_size);

/// The labelled subset of M images of one fold: the first M of a permutation of that fold's
/// training indices seeded by (seed, fold), so the subsets of every M are nested (the 10 are
/// inside the 20). Returned in ascending order. Throws common::InputError when M exceeds the
/// training part or is not positive.
std::vector<std::int64_t> labelled_subset(std::vector<std::int64_t> train_indices,
                                          std::int64_t m,
                                          std::uint64_t seed,
                                          int fold);

}  // namespace cltci::data
