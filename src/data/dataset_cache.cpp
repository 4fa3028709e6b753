#include "cltci/data/dataset_cache.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/device.h"
#include "cltci/common/error.h"
#include "cltci/data/acquisition_time.h"
#include "common/crc32c.h"
#include "data/random.h"

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

namespace cltci::data {
namespace {

constexpr char kMagic[8] = {'C', 'L', 'T', 'C', 'I', 'D', 'S', '1'};
constexpr std::uint64_t kTrailer = 0x454E44434C544349ULL;  // "ICLTCDNE" marks a complete file
// Part of the key: bump when preprocessing or the layout changes so that old caches are rebuilt.
// Version 2 added the checksums; version 3 the acquisition times, studies and pixel spacings.
constexpr std::uint64_t kFormatVersion = 3;

// Layout: Header | mask_slot[count] | orders[count] | days[count] | spacing[2 count] |
// geometry[5 count] |
// scales[count] | strings (name, patient id, study per image) | pixels | masks | checksums |
// trailer. Days are stored as the doubles' bytes, so NaN (undated) survives exactly. The checksums
// are a CRC32C per image plane and per label plane, then one over the header and every table before
// the pixels, then 4 zero bytes. One per plane (not one for the file) so that verification splits
// across threads; a truncated file is caught by its size before any of them is computed.

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t bits;
  std::uint32_t image_size;
  std::uint32_t reserved;
  std::uint64_t key;
  std::uint64_t count;
  std::uint64_t labelled;
  std::uint64_t string_bytes;
};
static_assert(sizeof(Header) == 56, "cache header layout");

cv::Mat to_unit_float(const cv::Mat& image) {
  cv::Mat out;
  switch (image.depth()) {
    case CV_8U:
      image.convertTo(out, CV_32F, 1.0 / 255.0);
      break;
    case CV_16U:
      image.convertTo(out, CV_32F, 1.0 / 65535.0);
      break;
    case CV_32F:
      cv::min(cv::max(image, 0.0), 1.0, out);
      break;
    default:
      throw common::Error("unsupported image depth " + std::to_string(image.depth()));
  }
  return out;
}

void append_string(std::string& block, const std::string& value) {
  const auto length = static_cast<std::uint32_t>(value.size());
  block.append(reinterpret_cast<const char*>(&length), sizeof length);
  block.append(value);
}

template <typename T>
void write_vector(std::ostream& out, const std::vector<T>& values) {
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
}

template <typename T>
std::uint32_t crc_of(const std::vector<T>& values, std::uint32_t crc) {
  return common::detail::crc32c(values.data(), values.size() * sizeof(T), crc);
}

// CRC32C of each of the `planes` consecutive planes of `plane_bytes` at `data`, on `threads`.
std::vector<std::uint32_t> plane_checksums(const std::uint8_t* data,
                                           std::size_t planes,
                                           std::size_t plane_bytes,
                                           unsigned threads) {
  std::vector<std::uint32_t> crcs(planes);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < planes; i = next++)
      crcs[i] = common::detail::crc32c(data + i * plane_bytes, plane_bytes);
  };
  threads =
      static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(planes, 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return crcs;
}

unsigned checksum_threads() { return static_cast<unsigned>(common::available_cpus()); }

// options.threads, or the available CPUs when it is 0.
unsigned decode_threads(const CacheOptions& options) {
  return options.threads > 0 ? static_cast<unsigned>(options.threads) : checksum_threads();
}

// The CRC32C of the header and the tables before the pixels (the order of the file).
std::uint32_t metadata_checksum(const Header& header,
                                const std::vector<std::int64_t>& mask_slot,
                                const std::vector<std::int64_t>& orders,
                                const std::vector<double>& days,
                                const std::vector<double>& spacing,
                                const std::vector<std::int32_t>& geometry,
                                const std::vector<double>& scales,
                                const std::string& strings) {
  std::uint32_t crc = common::detail::crc32c(&header, sizeof header);
  crc = crc_of(mask_slot, crc);
  crc = crc_of(orders, crc);
  crc = crc_of(days, crc);
  crc = crc_of(spacing, crc);
  crc = crc_of(geometry, crc);
  crc = crc_of(scales, crc);
  return common::detail::crc32c(strings.data(), strings.size(), crc);
}

template <typename T>
void read_vector(std::ifstream& in, std::vector<T>& values, std::size_t count) {
  values.resize(count);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * sizeof(T)));
}

void check_options(const CacheOptions& options) {
  if (options.image_size < 8) {
    throw common::InputError("cache: image_size must be >= 8, got " +
                             std::to_string(options.image_size));
  }
  if (options.bits != 8 && options.bits != 16) {
    throw common::InputError("cache: bits must be 8 or 16, got " + std::to_string(options.bits));
  }
}

std::size_t plane_pixels(const CacheOptions& options) {
  return static_cast<std::size_t>(options.image_size) *
         static_cast<std::size_t>(options.image_size);
}

// Decodes records [begin, end) on options.threads: record i's plane goes to
// pixels + (i - begin) * plane bytes, its geometry to geometry[i], its label map (if any, resized)
// to labels[i]. The failing record of lowest index throws, named.
void decode_records(const std::vector<SourceRecord>& records,
                    std::size_t begin,
                    std::size_t end,
                    const CacheOptions& options,
                    std::uint8_t* pixels,
                    ImageGeometry* geometry,
                    cv::Mat* labels) {
  const int size = options.image_size;
  const std::size_t plane_bytes =
      plane_pixels(options) * static_cast<std::size_t>(options.bits / 8);
  std::atomic<std::size_t> next{begin};
  std::mutex error_mutex;
  std::size_t error_index = end;
  std::string error_message;
  bool error_is_input = false;
  auto work = [&] {
    for (std::size_t i = next++; i < end; i = next++) {
      const SourceRecord& record = records[i];
      try {
        if (!record.load) throw common::Error("no loader");
        SourceImage source = record.load();
        if (source.image.empty() || source.image.channels() != 1) {
          throw common::InputError("decoded image is empty or not single-channel");
        }
        geometry[i] = square_geometry(source.image.rows, source.image.cols, size);
        const cv::Mat square = square_resize_image(to_unit_float(source.image), size);
        cv::Mat stored(size, size, options.bits == 16 ? CV_16UC1 : CV_8UC1,
                       pixels + (i - begin) * plane_bytes);
        square.convertTo(stored, stored.type(), options.bits == 16 ? 65535.0 : 255.0);
        if (!source.labels.empty()) {
          if (source.labels.type() != CV_8UC1)
            throw common::InputError("label map is not 8-bit single-channel");
          const double image_aspect = static_cast<double>(source.image.cols) / source.image.rows;
          const double label_aspect = static_cast<double>(source.labels.cols) / source.labels.rows;
          if (std::abs(image_aspect - label_aspect) > 0.01 * image_aspect) {
            throw common::InputError("label map " + std::to_string(source.labels.cols) + "x" +
                                     std::to_string(source.labels.rows) + " does not match image " +
                                     std::to_string(source.image.cols) + "x" +
                                     std::to_string(source.image.rows));
          }
          cv::Mat bad = (source.labels > 2) & (source.labels != 255);
          if (cv::countNonZero(bad) > 0) {
            cv::Point where;
            cv::minMaxLoc(bad, nullptr, nullptr, nullptr, &where);
            throw common::InputError("label map has value " +
                                     std::to_string(source.labels.at<std::uint8_t>(where)) +
                                     " (allowed: 0, 1, 2, 255)");
          }
          labels[i] = square_resize_labels(source.labels, size);
        }
      } catch (const std::exception& e) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          // A reader's message that already names the file is not prefixed with it again.
          const std::string what = e.what();
          error_message =
              what.find(record.name) != std::string::npos ? what : record.name + ": " + what;
          error_is_input = dynamic_cast<const common::InputError*>(&e) != nullptr;
        }
      }
    }
  };
  const std::size_t count = end - begin;
  const auto threads = static_cast<unsigned>(
      std::min<std::size_t>(decode_threads(options), std::max<std::size_t>(count, 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error_index < end) {
    if (error_is_input) throw common::InputError(error_message);
    throw common::Error(error_message);
  }
}

}  // namespace

// The image (or label) planes of a streamed cache: an open descriptor and where the planes start.
// Shared by the copies of a CachedDataset; pread is safe from the loader's threads at once.
struct StreamedPlanes {
  std::string file;
  std::string what = "image";  // in messages: "image 7", "label map 7"
  int fd = -1;
  std::uint64_t offset = 0;
  std::size_t plane_bytes = 0;
  int side = 0;
  int type = CV_8UC1;
  bool verify = true;
  std::vector<std::uint32_t> checksums;  // one per plane

  StreamedPlanes() = default;
  StreamedPlanes(const StreamedPlanes&) = delete;
  StreamedPlanes& operator=(const StreamedPlanes&) = delete;
  ~StreamedPlanes() {
    if (fd >= 0) ::close(fd);
  }

  cv::Mat read(std::int64_t index) const {
    cv::Mat plane(side, side, type);
    const auto at = static_cast<off_t>(offset + plane_bytes * static_cast<std::uint64_t>(index));
    std::size_t done = 0;
    while (done < plane_bytes) {
      const ssize_t n =
          ::pread(fd, plane.data + done, plane_bytes - done, at + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw common::Error("cache: " + file + ": cannot read " + what + " " +
                            std::to_string(index) + " (" +
                            (n < 0 ? std::strerror(errno) : "the file was truncated") + ")");
      }
      done += static_cast<std::size_t>(n);
    }
    if (verify && common::detail::crc32c(plane.data, plane_bytes) !=
                      checksums[static_cast<std::size_t>(index)]) {
      throw ChecksumError("cache: " + file + ": checksum mismatch in " + what + " " +
                          std::to_string(index));
    }
    return plane;
  }
};

const std::vector<std::string>& cache_residency_names() {
  static const std::vector<std::string> names{"auto", "memory", "stream"};
  return names;
}

std::string to_string(CacheResidency residency) {
  return cache_residency_names().at(static_cast<std::size_t>(residency));
}

CacheResidency resolve_residency(CacheResidency residency, std::uint64_t plane_bytes) {
  if (residency != CacheResidency::kAuto) return residency;
  return plane_bytes > kStreamAboveBytes ? CacheResidency::kStream : CacheResidency::kMemory;
}

std::string file_identity(const std::filesystem::path& file) {
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  if (error) throw common::InputError(file.string() + ": cannot read (" + error.message() + ")");
  const auto mtime = std::filesystem::last_write_time(file, error);
  if (error) throw common::InputError(file.string() + ": cannot stat (" + error.message() + ")");
  return file.string() + "|" + std::to_string(size) + "|" +
         std::to_string(mtime.time_since_epoch().count());
}

cv::Mat CachedDataset::image(std::int64_t index) const {
  if (index < 0 || index >= size()) {
    throw common::Error("cache: image index " + std::to_string(index) + " out of range [0, " +
                        std::to_string(size()) + ")");
  }
  if (stream_) return stream_->read(index);
  const std::size_t plane = static_cast<std::size_t>(image_size_) * image_size_ * (bits_ / 8);
  // OpenCV headers over const storage: callers only read (the loader copies into tensors).
  return cv::Mat(
      image_size_, image_size_, bits_ == 16 ? CV_16UC1 : CV_8UC1,
      const_cast<std::uint8_t*>(pixels_.data() + plane * static_cast<std::size_t>(index)));
}

cv::Mat CachedDataset::labels(std::int64_t index) const {
  const std::int64_t slot = mask_slot_.at(static_cast<std::size_t>(index));
  if (slot < 0) return {};
  if (stream_labels_) return stream_labels_->read(slot);
  const std::size_t plane = static_cast<std::size_t>(image_size_) * image_size_;
  return cv::Mat(image_size_, image_size_, CV_8UC1,
                 const_cast<std::uint8_t*>(masks_.data() + plane * static_cast<std::size_t>(slot)));
}

void CachedDataset::index_patients() {
  std::map<std::string, std::int64_t> numbers;
  for (const std::string& id : patient_ids_) numbers.emplace(id, 0);
  patient_names_.clear();
  for (auto& [id, number] : numbers) {
    number = static_cast<std::int64_t>(patient_names_.size());
    patient_names_.push_back(id);
  }
  patient_index_.resize(patient_ids_.size());
  for (std::size_t i = 0; i < patient_ids_.size(); ++i)
    patient_index_[i] = numbers.at(patient_ids_[i]);
}

void CachedDataset::index_studies() {
  std::map<std::string, std::int64_t> numbers;
  for (const std::string& id : study_ids_) {
    if (!id.empty()) numbers.emplace(id, 0);
  }
  study_names_.clear();
  for (auto& [id, number] : numbers) {
    number = static_cast<std::int64_t>(study_names_.size());
    study_names_.push_back(id);
  }
  study_index_.resize(study_ids_.size());
  for (std::size_t i = 0; i < study_ids_.size(); ++i)
    study_index_[i] = study_ids_[i].empty() ? -1 : numbers.at(study_ids_[i]);
}

std::int64_t CachedDataset::dated_images() const {
  return static_cast<std::int64_t>(std::count_if(days_.begin(), days_.end(), is_dated));
}

std::uint64_t cache_key(const std::vector<SourceRecord>& records, const CacheOptions& options) {
  std::string text = "v" + std::to_string(kFormatVersion) + "|" +
                     std::to_string(options.image_size) + "|" + std::to_string(options.bits) + "|" +
                     std::to_string(records.size());
  std::uint64_t hash = detail::fnv1a(text.data(), text.size());
  for (const SourceRecord& r : records) {
    // A time by its bits: exact and locale-free, so any change of a time rebuilds.
    std::string days = "-";
    if (is_dated(r.days)) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &r.days, sizeof bits);
      days = std::to_string(bits);
    }
    std::string spacing;
    for (const double mm : {r.spacing_row_mm, r.spacing_col_mm}) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &mm, sizeof bits);
      spacing += std::isnan(mm) ? std::string("-") : std::to_string(bits);
      spacing += '/';
    }
    // Separators with a byte that cannot appear in ids keep "a|bc" and "ab|c" apart.
    text = r.name + '\x1f' + r.patient_id + '\x1f' + std::to_string(r.order) + '\x1f' + r.identity +
           '\x1f' + days + '\x1f' + r.study + '\x1f' + spacing + '\x1e';
    hash = detail::fnv1a(text.data(), text.size(), hash);
  }
  return hash;
}

void CachedDataset::fill_tables(const std::vector<SourceRecord>& records) {
  for (const SourceRecord& r : records) {
    names_.push_back(r.name);
    patient_ids_.push_back(r.patient_id);
    orders_.push_back(r.order);
    days_.push_back(r.days);
    spacing_.push_back(r.spacing_row_mm);
    spacing_.push_back(r.spacing_col_mm);
    study_ids_.push_back(r.study);
  }
  index_patients();
  index_studies();
}

void CachedDataset::assign_masks(const std::vector<cv::Mat>& labels) {
  const std::size_t plane = static_cast<std::size_t>(image_size_) * image_size_;
  mask_slot_.assign(labels.size(), -1);
  std::size_t labelled = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i].empty()) mask_slot_[i] = static_cast<std::int64_t>(labelled++);
  }
  masks_.resize(labelled * plane);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (mask_slot_[i] >= 0) {
      std::memcpy(masks_.data() + static_cast<std::size_t>(mask_slot_[i]) * plane, labels[i].data,
                  plane);
    }
  }
}

CachedDataset build_cache(const std::vector<SourceRecord>& records, const CacheOptions& options) {
  check_options(options);
  const std::size_t count = records.size();
  CachedDataset data;
  data.image_size_ = options.image_size;
  data.bits_ = options.bits;
  data.key_ = cache_key(records, options);
  data.pixels_.resize(count * plane_pixels(options) * static_cast<std::size_t>(options.bits / 8));
  data.geometry_.resize(count);
  std::vector<cv::Mat> labels(count);
  decode_records(records, 0, count, options, data.pixels_.data(), data.geometry_.data(),
                 labels.data());
  data.assign_masks(labels);
  data.fill_tables(records);
  return data;
}

struct CachedDataset::Head {
  Header header{};
  std::vector<std::int32_t> geometry;  // 5 per image
  std::vector<double> scales;
  std::string strings;  // name, patient id and study of each image
};

CachedDataset::Head CachedDataset::head() const {
  Head head;
  std::memcpy(head.header.magic, kMagic, sizeof kMagic);
  head.header.version = static_cast<std::uint32_t>(kFormatVersion);
  head.header.bits = static_cast<std::uint32_t>(bits_);
  head.header.image_size = static_cast<std::uint32_t>(image_size_);
  head.header.key = key_;
  head.header.count = names_.size();
  // From the slots, not masks_: a streamed build or read holds no label planes.
  head.header.labelled = static_cast<std::uint64_t>(
      std::count_if(mask_slot_.begin(), mask_slot_.end(), [](std::int64_t s) { return s >= 0; }));
  for (std::size_t i = 0; i < names_.size(); ++i) {
    append_string(head.strings, names_[i]);
    append_string(head.strings, patient_ids_[i]);
    append_string(head.strings, study_ids_[i]);
  }
  head.header.string_bytes = head.strings.size();
  for (const ImageGeometry& g : geometry_) {
    head.geometry.insert(head.geometry.end(), {g.height, g.width, g.pad_top, g.pad_left, g.side});
    head.scales.push_back(g.scale);
  }
  return head;
}

void CachedDataset::write_head(std::ostream& out) const {
  const Head parts = head();
  out.write(reinterpret_cast<const char*>(&parts.header), sizeof parts.header);
  write_vector(out, mask_slot_);
  write_vector(out, orders_);
  write_vector(out, days_);
  write_vector(out, spacing_);
  write_vector(out, parts.geometry);
  write_vector(out, parts.scales);
  out.write(parts.strings.data(), static_cast<std::streamsize>(parts.strings.size()));
}

std::uint32_t CachedDataset::head_checksum() const {
  const Head parts = head();
  return metadata_checksum(parts.header, mask_slot_, orders_, days_, spacing_, parts.geometry,
                           parts.scales, parts.strings);
}

void CachedDataset::write_tail(std::ostream& out, std::vector<std::uint32_t> checksums) const {
  const std::size_t plane = static_cast<std::size_t>(image_size_) * image_size_;
  const std::vector<std::uint32_t> mask_checksums =
      plane_checksums(masks_.data(), masks_.size() / plane, plane, checksum_threads());
  checksums.insert(checksums.end(), mask_checksums.begin(), mask_checksums.end());
  checksums.push_back(head_checksum());
  checksums.push_back(0);
  write_vector(out, masks_);
  write_vector(out, checksums);
  out.write(reinterpret_cast<const char*>(&kTrailer), sizeof kTrailer);
}

void write_cache(const CachedDataset& data, const std::filesystem::path& file) {
  const std::size_t plane_bytes =
      static_cast<std::size_t>(data.image_size_) * data.image_size_ * (data.bits_ / 8);
  std::vector<std::uint32_t> checksums =
      plane_checksums(data.pixels_.data(), data.names_.size(), plane_bytes, checksum_threads());
  common::write_file_atomic(file, [&](const std::filesystem::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    data.write_head(out);
    write_vector(out, data.pixels_);
    data.write_tail(out, std::move(checksums));
    out.flush();
    if (!out) throw common::Error("cache: cannot write " + temporary.string());
  });
}

void build_cache_file(const std::vector<SourceRecord>& records,
                      const CacheOptions& options,
                      const std::filesystem::path& file) {
  check_options(options);
  const std::size_t count = records.size();
  const std::size_t plane_bytes =
      plane_pixels(options) * static_cast<std::size_t>(options.bits / 8);
  CachedDataset data;
  data.image_size_ = options.image_size;
  data.bits_ = options.bits;
  data.key_ = cache_key(records, options);
  data.geometry_.resize(count);
  data.mask_slot_.assign(count, -1);
  data.fill_tables(records);
  std::vector<cv::Mat> labels(count);
  std::vector<std::uint32_t> checksums(count);
  std::vector<std::uint32_t> label_checksums;
  const unsigned threads = decode_threads(options);
  // Large enough to keep every thread busy between writes, small enough to be a few MB.
  const std::size_t chunk = std::max<std::size_t>(256, 64 * static_cast<std::size_t>(threads));
  std::vector<std::uint8_t> buffer(std::min(chunk, std::max<std::size_t>(count, 1)) * plane_bytes);
  const std::size_t label_bytes = plane_pixels(options);
  common::write_file_atomic(file, [&](const std::filesystem::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    // The label planes follow all the image planes in the file: they wait in a side file, not in
    // memory (a phantom or a labelled set has one per image).
    const std::filesystem::path spill = temporary.string() + ".labels";
    struct RemoveSpill {
      const std::filesystem::path& path;
      ~RemoveSpill() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
      }
    } remove_spill{spill};
    std::ofstream spilled(spill, std::ios::binary | std::ios::trunc);
    // The head has its final size now (geometry and mask slots are fixed-width); its values are
    // known after the decode, so it is written again at the end.
    data.write_head(out);
    std::size_t logged = 0;
    std::int64_t labelled = 0;
    for (std::size_t begin = 0; begin < count; begin += chunk) {
      const std::size_t end = std::min(count, begin + chunk);
      decode_records(records, begin, end, options, buffer.data(), data.geometry_.data(),
                     labels.data());
      const std::vector<std::uint32_t> crcs =
          plane_checksums(buffer.data(), end - begin, plane_bytes, threads);
      std::copy(crcs.begin(), crcs.end(), checksums.begin() + static_cast<std::ptrdiff_t>(begin));
      out.write(reinterpret_cast<const char*>(buffer.data()),
                static_cast<std::streamsize>((end - begin) * plane_bytes));
      for (std::size_t i = begin; i < end; ++i) {
        if (labels[i].empty()) continue;
        data.mask_slot_[i] = labelled++;
        label_checksums.push_back(common::detail::crc32c(labels[i].data, label_bytes));
        spilled.write(reinterpret_cast<const char*>(labels[i].data),
                      static_cast<std::streamsize>(label_bytes));
        labels[i].release();
      }
      if (end * 10 / count > logged) {
        logged = end * 10 / count;
        spdlog::info("[data] cache {}: {} of {} images", file.filename().string(), end, count);
      }
    }
    spilled.close();
    if (!spilled) throw common::Error("cache: cannot write " + spill.string());
    std::ifstream back(spill, std::ios::binary);
    std::vector<char> block(std::size_t{16} << 20);
    while (back.read(block.data(), static_cast<std::streamsize>(block.size())) || back.gcount() > 0)
      out.write(block.data(), back.gcount());
    // masks_ stays empty: write_tail writes no label plane, only the checksums after them.
    checksums.insert(checksums.end(), label_checksums.begin(), label_checksums.end());
    data.write_tail(out, std::move(checksums));
    out.seekp(0);
    data.write_head(out);
    out.flush();
    if (!out) throw common::Error("cache: cannot write " + temporary.string());
  });
}

CachedDataset read_cache(const std::filesystem::path& file, bool verify, CacheResidency residency) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw common::Error("cache: cannot open " + file.string());
  auto fail = [&](const std::string& why) {
    return common::Error("cache: " + file.string() + ": " + why);
  };
  Header header{};
  in.read(reinterpret_cast<char*>(&header), sizeof header);
  if (!in || std::memcmp(header.magic, kMagic, sizeof kMagic) != 0)
    throw fail("not a CL-TCI cache");
  if (header.version != kFormatVersion)
    throw fail("format version " + std::to_string(header.version));
  if ((header.bits != 8 && header.bits != 16) || header.image_size == 0) throw fail("bad header");
  const std::uint64_t plane = static_cast<std::uint64_t>(header.image_size) * header.image_size;
  const std::uint64_t expected = sizeof(Header) + header.count * (8 + 8 + 8 + 2 * 8 + 5 * 4 + 8) +
                                 header.string_bytes + header.count * plane * (header.bits / 8) +
                                 header.labelled * plane +
                                 (header.count + header.labelled + 2) * 4 + 8;
  std::error_code error;
  if (std::filesystem::file_size(file, error) != expected || error)
    throw fail("truncated or corrupt");

  CachedDataset data;
  data.image_size_ = static_cast<int>(header.image_size);
  data.bits_ = static_cast<int>(header.bits);
  data.key_ = header.key;
  const auto count = static_cast<std::size_t>(header.count);
  read_vector(in, data.mask_slot_, count);
  read_vector(in, data.orders_, count);
  read_vector(in, data.days_, count);
  read_vector(in, data.spacing_, count * 2);
  std::vector<std::int32_t> geometry;
  std::vector<double> scales;
  read_vector(in, geometry, count * 5);
  read_vector(in, scales, count);
  std::string strings(static_cast<std::size_t>(header.string_bytes), '\0');
  in.read(strings.data(), static_cast<std::streamsize>(strings.size()));
  const std::uint64_t pixel_bytes = header.count * plane * (header.bits / 8);
  const std::uint64_t pixel_offset = static_cast<std::uint64_t>(in.tellg());
  const bool stream = resolve_residency(residency, pixel_bytes) == CacheResidency::kStream;
  if (stream) {
    in.seekg(static_cast<std::streamoff>(pixel_bytes), std::ios::cur);
  } else {
    read_vector(in, data.pixels_, static_cast<std::size_t>(pixel_bytes));
  }
  const std::uint64_t label_offset = pixel_offset + pixel_bytes;
  if (stream) {
    in.seekg(static_cast<std::streamoff>(header.labelled * plane), std::ios::cur);
  } else {
    read_vector(in, data.masks_, static_cast<std::size_t>(header.labelled * plane));
  }
  std::vector<std::uint32_t> checksums;
  read_vector(in, checksums, static_cast<std::size_t>(header.count + header.labelled + 2));
  std::uint64_t trailer = 0;
  in.read(reinterpret_cast<char*>(&trailer), sizeof trailer);
  if (!in || trailer != kTrailer) throw fail("truncated or corrupt");
  if (verify) {
    // Before the string table is parsed: a flipped length must not be trusted either.
    const std::uint32_t* stored = checksums.data();
    if (metadata_checksum(header, data.mask_slot_, data.orders_, data.days_, data.spacing_,
                          geometry, scales, strings) != stored[count + header.labelled])
      throw ChecksumError("cache: " + file.string() + ": checksum mismatch in the header");
    // Streamed planes are verified as they are read (StreamedPlanes::read).
    if (!stream) {
      const std::vector<std::uint32_t> pixels = plane_checksums(
          data.pixels_.data(), count, plane * (header.bits / 8), checksum_threads());
      const std::vector<std::uint32_t> masks = plane_checksums(
          data.masks_.data(), static_cast<std::size_t>(header.labelled), plane, checksum_threads());
      for (std::size_t i = 0; i < count; ++i) {
        if (pixels[i] != stored[i])
          throw ChecksumError("cache: " + file.string() + ": checksum mismatch in image " +
                              std::to_string(i));
      }
      for (std::size_t i = 0; i < masks.size(); ++i) {
        if (masks[i] != stored[count + i])
          throw ChecksumError("cache: " + file.string() + ": checksum mismatch in label map " +
                              std::to_string(i));
      }
    }
  }

  std::size_t at = 0;
  auto take = [&]() {
    std::uint32_t length = 0;
    if (at + sizeof length > strings.size()) throw fail("corrupt string table");
    std::memcpy(&length, strings.data() + at, sizeof length);
    at += sizeof length;
    if (at + length > strings.size()) throw fail("corrupt string table");
    std::string value = strings.substr(at, length);
    at += length;
    return value;
  };
  for (std::size_t i = 0; i < count; ++i) {
    data.names_.push_back(take());
    data.patient_ids_.push_back(take());
    data.study_ids_.push_back(take());
    const std::int32_t* g = geometry.data() + 5 * i;
    data.geometry_.push_back({g[0], g[1], g[2], g[3], g[4], scales[i]});
    if (data.mask_slot_[i] >= static_cast<std::int64_t>(header.labelled))
      throw fail("corrupt mask index");
  }
  data.index_patients();
  data.index_studies();
  if (stream) {
    const auto open_planes = [&](const std::string& what, std::uint64_t offset,
                                 std::size_t plane_bytes, int type, std::size_t first,
                                 std::size_t planes) {
      auto streamed = std::make_shared<StreamedPlanes>();
      streamed->file = file.string();
      streamed->what = what;
      streamed->fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (streamed->fd < 0) throw fail(std::string("cannot open (") + std::strerror(errno) + ")");
      // Training draws images in a random order: read-ahead would only evict useful pages.
      ::posix_fadvise(streamed->fd, 0, 0, POSIX_FADV_RANDOM);
      streamed->offset = offset;
      streamed->plane_bytes = plane_bytes;
      streamed->side = data.image_size_;
      streamed->type = type;
      streamed->verify = verify;
      streamed->checksums.assign(checksums.begin() + static_cast<std::ptrdiff_t>(first),
                                 checksums.begin() + static_cast<std::ptrdiff_t>(first + planes));
      return streamed;
    };
    data.stream_ =
        open_planes("image", pixel_offset, static_cast<std::size_t>(plane * (header.bits / 8)),
                    header.bits == 16 ? CV_16UC1 : CV_8UC1, 0, count);
    if (header.labelled > 0) {
      data.stream_labels_ = open_planes("label map", label_offset, static_cast<std::size_t>(plane),
                                        CV_8UC1, count, static_cast<std::size_t>(header.labelled));
    }
  }
  return data;
}

CachedDataset load_or_build_cache(const std::filesystem::path& file,
                                  const std::vector<SourceRecord>& records,
                                  const CacheOptions& options,
                                  CacheOutcome* outcome) {
  const std::uint64_t key = cache_key(records, options);
  const std::uint64_t plane_bytes = records.size() * plane_pixels(options) *
                                    static_cast<std::uint64_t>(std::max(options.bits, 8) / 8);
  const CacheResidency residency = resolve_residency(options.residency, plane_bytes);
  if (std::filesystem::exists(file)) {
    try {
      // Compare the key from the header first, so that a stale store is not read in full.
      Header header{};
      std::ifstream(file, std::ios::binary).read(reinterpret_cast<char*>(&header), sizeof header);
      if (header.key != key) throw common::Error("cache " + file.string() + " is stale");
      CachedDataset cached = read_cache(file, /*verify=*/true, residency);
      if (cached.key() == key) {
        if (outcome != nullptr) *outcome = CacheOutcome::kReused;
        return cached;
      }
    } catch (const ChecksumError& e) {
      // Derived data, so rebuilding is the whole remedy; a warning because the disk or memory
      // that flipped the bits may deserve a look.
      spdlog::warn("{} (the file is corrupt): rebuilding", e.what());
    } catch (const common::Error& e) {
      spdlog::info("{}: rebuilding", e.what());
    }
  }
  if (outcome != nullptr) *outcome = CacheOutcome::kBuilt;
  if (residency == CacheResidency::kStream) {
    build_cache_file(records, options, file);
    return read_cache(file, /*verify=*/true, residency);
  }
  CachedDataset built = build_cache(records, options);
  write_cache(built, file);
  return built;
}

}  // namespace cltci::data
