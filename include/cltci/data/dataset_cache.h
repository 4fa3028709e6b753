// Decode once, train from memory. Every source image is decoded, padded to a centred square with
// zeros and resized to `image_size` (square_geometry.h) exactly once; the result lives in one
// binary file per data set, keyed by the sources' identities and the preprocessing options, and
// is read back in one sequential pass (3,000 images of 256^2 in well under a second).
//
// A cache larger than memory (MIMIC-CXR's 377k images are ~25 GB at 256^2) is streamed instead:
// built straight to its file a chunk at a time, and read back one image per pread. Reads go through
// the page cache, so a cache that fits is still served from RAM, but the pages are the kernel's to
// reclaim and do not count to the process's RSS; a memory map would count every page touched and
// turn a file truncated under a running job into SIGBUS.
//
// The cache does not know about manifests or file formats: its input is a list of SourceRecords,
// each with an identity string and a callback that decodes it. The phantom, the manifest glue
// and the tests all produce such records.
#pragma once

#include "cltci/common/error.h"
#include "cltci/data/square_geometry.h"

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace cltci::data {

/// What a source record decodes to.
struct SourceImage {
  cv::Mat image;   ///< CV_32FC1 in [0, 1], or CV_8UC1 / CV_16UC1 (full range)
  cv::Mat labels;  ///< CV_8UC1 with values in {0, 1, 2, 255}, or empty (unlabelled); it may
                   ///< have another size than the image (same aspect ratio)
};

struct SourceRecord {
  std::string name;        ///< shown in errors and kept in the cache (e.g. the file path)
  std::string patient_id;  ///< groups images for CL-TCI positives and for folds
  std::int64_t order = 0;  ///< acquisition order within the patient
  std::string identity;    ///< changes whenever the decoded pixels may change (see file_identity)
  std::function<SourceImage()> load;  ///< decodes; called from worker threads
  // Last, and `study` with an explicit initialiser, so that brace-initialised records that stop
  // at `load` stay valid and warning-free.
  /// Acquisition time in days since 1970-01-01 (see iso_to_days); NaN: undated.
  double days = std::numeric_limits<double>::quiet_NaN();
  std::string study = {};  ///< study id (e.g. a StudyInstanceUID); empty: unknown
  /// Pixel spacing of the source image in mm (rows, columns); NaN: unknown.
  double spacing_row_mm = std::numeric_limits<double>::quiet_NaN();
  double spacing_col_mm = std::numeric_limits<double>::quiet_NaN();
};

/// "path|size|mtime-ns" of a file: the part of a record's identity that a file contributes.
/// Throws common::InputError naming the file when it does not exist.
std::string file_identity(const std::filesystem::path& file);

/// Where a cache's image planes live once it is opened.
enum class CacheResidency {
  kAuto,    ///< kMemory up to kStreamAboveBytes of image planes, kStream above
  kMemory,  ///< read into memory in one pass, verified on open (needs the planes to fit in RAM)
  kStream,  ///< read from the file per image, each plane verified as it is read
};
/// "auto", "memory", "stream" (data.cache_residency).
const std::vector<std::string>& cache_residency_names();
std::string to_string(CacheResidency residency);

/// kAuto's threshold on the image planes (32k images of 256^2 in 8 bits).
inline constexpr std::uint64_t kStreamAboveBytes = std::uint64_t{2} << 30;

/// `residency` made concrete for a cache whose image planes take `plane_bytes` in all.
CacheResidency resolve_residency(CacheResidency residency, std::uint64_t plane_bytes);

struct CacheOptions {
  int image_size = 256;  ///< side of the stored square images
  int bits = 8;          ///< stored image depth: 8 or 16
  int threads = 0;       ///< decoding threads when building (0: the available CPUs)
  /// Whether load_or_build_cache holds the planes in memory or streams them (and builds the
  /// file a chunk at a time). Not part of the key: both read the same file.
  CacheResidency residency = CacheResidency::kAuto;
};

struct StreamedPlanes;

/// A cached data set, held in memory.
class CachedDataset {
 public:
  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  int image_size() const { return image_size_; }
  int bits() const { return bits_; }
  std::uint64_t key() const { return key_; }

  /// image_size^2 stored pixels (CV_8UC1 or CV_16UC1), read-only: a view of memory (no copy),
  /// or, streamed, a fresh Mat read from the file (throws ChecksumError when its plane's
  /// checksum does not match and the cache was opened with verification).
  cv::Mat image(std::int64_t index) const;
  /// Whether image() reads from the file (CacheResidency::kStream).
  bool streamed() const { return stream_ != nullptr; }
  /// The label map (CV_8UC1), or an empty Mat when the image has none; streamed, read from the
  /// file and verified as image() is.
  cv::Mat labels(std::int64_t index) const;
  bool has_labels(std::int64_t index) const { return mask_slot_.at(index) >= 0; }

  const std::string& name(std::int64_t index) const { return names_.at(index); }
  const std::string& patient_id(std::int64_t index) const { return patient_ids_.at(index); }
  std::int64_t order(std::int64_t index) const { return orders_.at(index); }
  const ImageGeometry& geometry(std::int64_t index) const { return geometry_.at(index); }
  /// Acquisition time in days since 1970-01-01 (fractional); NaN when undated.
  double days(std::int64_t index) const { return days_.at(index); }
  /// Study id, empty when unknown.
  const std::string& study(std::int64_t index) const { return study_ids_.at(index); }

  /// Dense patient number 0..patients()-1 (patients sorted by id).
  std::int64_t patient_index(std::int64_t index) const { return patient_index_.at(index); }
  std::int64_t patients() const { return static_cast<std::int64_t>(patient_names_.size()); }
  const std::vector<std::int64_t>& patient_indices() const { return patient_index_; }
  const std::vector<std::string>& patient_ids() const { return patient_ids_; }

  /// Dense study number 0..studies()-1 (known studies sorted by id), -1 when unknown.
  std::int64_t study_index(std::int64_t index) const { return study_index_.at(index); }
  std::int64_t studies() const { return static_cast<std::int64_t>(study_names_.size()); }
  const std::vector<std::int64_t>& study_indices() const { return study_index_; }
  /// Pixel spacing of the source image in mm {rows, columns} (native resolution; divide by
  /// geometry(i).scale for the cached one), NaN where unknown.
  std::array<double, 2> pixel_spacing(std::int64_t index) const {
    const auto i = static_cast<std::size_t>(index) * 2;
    return {spacing_.at(i), spacing_.at(i + 1)};
  }
  /// days(i) of every image, in data set order (what the patient sampler's windows read).
  const std::vector<double>& image_days() const { return days_; }
  /// How many images have a time.
  std::int64_t dated_images() const;

 private:
  friend CachedDataset build_cache(const std::vector<SourceRecord>&, const CacheOptions&);
  friend CachedDataset read_cache(const std::filesystem::path&, bool, CacheResidency);
  friend void write_cache(const CachedDataset&, const std::filesystem::path&);
  friend void build_cache_file(const std::vector<SourceRecord>&,
                               const CacheOptions&,
                               const std::filesystem::path&);
  void fill_tables(const std::vector<SourceRecord>& records);
  // The file's parts (dataset_cache.cpp has its layout): what precedes the image planes (its
  // fields, as encoded in the file), its checksum, and what follows them (label maps, every
  // checksum, the trailer).
  struct Head;
  Head head() const;
  void write_head(std::ostream& out) const;
  std::uint32_t head_checksum() const;
  void write_tail(std::ostream& out, std::vector<std::uint32_t> plane_checksums) const;
  void assign_masks(const std::vector<cv::Mat>& labels);
  void index_patients();
  void index_studies();

  int image_size_ = 0;
  int bits_ = 8;
  std::uint64_t key_ = 0;
  std::vector<std::uint8_t> pixels_;  // size() * image_size^2 * (bits / 8); empty when streamed
  std::shared_ptr<const StreamedPlanes> stream_;         // image planes, when streamed
  std::shared_ptr<const StreamedPlanes> stream_labels_;  // label planes, when streamed
  std::vector<std::uint8_t> masks_;  // one image_size^2 plane per labelled image
  std::vector<std::int64_t> mask_slot_;
  std::vector<std::string> names_;
  std::vector<std::string> patient_ids_;
  std::vector<std::int64_t> orders_;
  std::vector<ImageGeometry> geometry_;
  std::vector<double> days_;
  std::vector<double> spacing_;  // 2 per image: rows, columns (mm)
  std::vector<std::string> study_ids_;
  std::vector<std::int64_t> patient_index_;
  std::vector<std::string> patient_names_;
  std::vector<std::int64_t> study_index_;
  std::vector<std::string> study_names_;
};

/// The key of a cache: records (in order, with their times and studies) and options, hashed.
std::uint64_t cache_key(const std::vector<SourceRecord>& records, const CacheOptions& options);

/// Decodes and preprocesses every record (in parallel). A failing record throws
/// common::InputError naming it (other errors are wrapped the same way).
CachedDataset build_cache(const std::vector<SourceRecord>& records, const CacheOptions& options);

/// A cache file whose stored checksums do not match its contents (bit rot, a bad disk).
struct ChecksumError : common::Error {
  using common::Error::Error;
};

/// Reads a cache file in one pass; throws common::Error when it is truncated or not a cache, and
/// ChecksumError (naming the file) when `verify` and a CRC32C of a plane or of the header and
/// tables does not match (verification runs on all cores; see docs/benchmarks.md for its cost).
/// kStream reads the tables only (verified now) and leaves the image and label planes in the
/// file, each verified when image() or labels() reads it; kAuto picks by the planes' size.
CachedDataset read_cache(const std::filesystem::path& file,
                         bool verify = true,
                         CacheResidency residency = CacheResidency::kMemory);

/// Writes a cache file atomically.
void write_cache(const CachedDataset& dataset, const std::filesystem::path& file);

/// build_cache followed by write_cache without holding the planes: records are decoded a chunk
/// at a time and their image planes written as they come (label planes go to a side file and
/// are appended at the end). The file is the same, byte for byte.
void build_cache_file(const std::vector<SourceRecord>& records,
                      const CacheOptions& options,
                      const std::filesystem::path& file);

enum class CacheOutcome { kReused, kBuilt };

/// The data set of `records` from `file` when its key matches, otherwise built and written to
/// `file` (a missing, stale, truncated, corrupt or foreign file is rebuilt; a corrupt one with
/// a warning naming it); held or streamed as options.residency says.
CachedDataset load_or_build_cache(const std::filesystem::path& file,
                                  const std::vector<SourceRecord>& records,
                                  const CacheOptions& options,
                                  CacheOutcome* outcome = nullptr);

}  // namespace cltci::data
