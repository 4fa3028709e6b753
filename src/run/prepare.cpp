#include "cltci/run/prepare.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/manifest.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

struct Counts {
  std::size_t images = 0;
  std::size_t patients = 0;
  std::size_t followups = 0;  // patients with >= 2 distinct orders
  std::size_t labelled = 0;
};

Counts count(const data::Manifest& manifest) {
  std::map<std::string, std::set<std::int64_t>> orders;
  Counts c;
  for (const data::ManifestRow& row : manifest.rows) {
    ++c.images;
    orders[row.patient_id].insert(row.order);
    if (row.has_labels()) ++c.labelled;
  }
  c.patients = orders.size();
  for (const auto& [patient, seen] : orders) c.followups += seen.size() >= 2 ? 1 : 0;
  return c;
}

void write_marker(const fs::path& dir, const std::string& what) {
  // Lets a later `--overwrite` tell this folder from one it must not delete.
  common::write_file_atomic(dir / kPrepareMarker, "written by cltci prepare " + what + "\n");
}

/// Gives the output folder back as it was when a command fails before release(): a failed
/// import must neither leave a half-filled folder that a rerun would refuse as non-empty, nor
/// lose the earlier output that --overwrite was to replace. The folder is removed when prepare
/// made it, emptied when it was empty, and the parked earlier output is moved back.
class RestoreOnFailure {
 public:
  RestoreOnFailure(fs::path dir, bool created, fs::path parked)
      : dir_(std::move(dir)), created_(created), parked_(std::move(parked)) {}
  ~RestoreOnFailure() {
    std::error_code ignored;
    if (!armed_) {
      if (!parked_.empty()) fs::remove_all(parked_, ignored);
      return;
    }
    if (created_ || !parked_.empty()) {
      fs::remove_all(dir_, ignored);
    } else {
      for (fs::directory_iterator it(dir_, ignored), end; !ignored && it != end;
           it.increment(ignored)) {
        std::error_code not_removed;
        fs::remove_all(it->path(), not_removed);
      }
    }
    if (!parked_.empty()) {
      std::error_code error;
      fs::rename(parked_, dir_, error);
      if (error) {
        spdlog::error("cannot move the earlier output back from {} to {}: {}", parked_.string(),
                      dir_.string(), error.message());
      }
    }
  }
  RestoreOnFailure(const RestoreOnFailure&) = delete;
  RestoreOnFailure& operator=(const RestoreOnFailure&) = delete;
  void release() { armed_ = false; }

 private:
  fs::path dir_;
  bool created_;
  fs::path parked_;
  bool armed_ = true;
};

}  // namespace

bool claim_output_dir(const fs::path& dir, bool overwrite, fs::path* parked) {
  if (dir.empty()) throw common::InputError("--output: an output folder is required");
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (!fs::exists(status)) {
    fs::create_directories(dir, error);
    if (error) {
      throw common::InputError("'" + dir.string() + "': cannot create the output folder (" +
                               error.message() + ")");
    }
    return true;
  }
  if (!fs::is_directory(status)) {
    throw common::InputError("'" + dir.string() + "': output exists and is not a folder");
  }
  if (fs::is_empty(dir, error)) return false;
  if (!overwrite) {
    throw common::InputError("'" + dir.string() +
                             "': output folder is not empty (pass --overwrite to replace an "
                             "earlier prepare output)");
  }
  if (!fs::exists(dir / kPrepareMarker, error)) {
    throw common::InputError("'" + dir.string() + "': --overwrite refused: the folder was not " +
                             "written by prepare (no " + kPrepareMarker + "); remove it yourself");
  }
  if (parked != nullptr) {
    // A hidden sibling on the same file system: one rename each way, nothing copied.
    fs::path named = dir.lexically_normal();
    if (!named.has_filename()) named = named.parent_path();  // "out/"
    const fs::path aside = named.parent_path() / ("." + named.filename().string() + ".cltci-old-" +
                                                  std::to_string(::getpid()));
    fs::remove_all(aside, error);
    fs::rename(dir, aside, error);
    if (!error) fs::create_directory(dir, error);
    if (error) {
      throw common::Error("cannot move the earlier output '" + dir.string() +
                          "' aside: " + error.message());
    }
    *parked = aside;
    return false;
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    fs::remove_all(entry.path(), error);
    if (error) {
      throw common::Error("cannot remove '" + entry.path().string() + "': " + error.message());
    }
  }
  return false;
}

int prepare_phantom(const PreparePhantomOptions& options, std::ostream& out) {
  options.phantom.validate();  // before touching the disk
  fs::path parked;
  const bool created = claim_output_dir(options.output, options.overwrite, &parked);
  RestoreOnFailure cleanup(options.output, created, parked);
  const data::PhantomExport exported =
      data::export_phantom(options.output, options.phantom, options.format);
  write_marker(options.output, "phantom");
  cleanup.release();

  std::set<int> patients;
  for (const data::PhantomExportFile& file : exported.files) patients.insert(file.entry.patient);
  out << "wrote " << exported.files.size() << " images of " << patients.size()
      << " phantom patients as " << data::to_string(options.format) << " to "
      << options.output.string() << '\n';
  if (!exported.manifest.empty()) out << "manifest: " << exported.manifest.string() << '\n';
  out << "import with: prepare import --kind " << exported.import_kind << " --root "
      << exported.root.string() << " --output <dir>\n";
  return common::kExitSuccess;
}

int prepare_import(const PrepareImportOptions& options, std::ostream& out) {
  const data::ImportOptions& import = options.import;
  // Checked before the output folder is made, so a typo in --root creates nothing.
  std::error_code error;
  if (!fs::is_directory(import.root, error)) {
    throw common::InputError("'" + import.root.string() + "': data set folder not found");
  }
  const fs::path& dir = import.output_dir;
  fs::path parked;
  const bool created = claim_output_dir(dir, options.overwrite, &parked);
  RestoreOnFailure cleanup(dir, created, parked);
  spdlog::info("importing {} data set from {}", import.kind, import.root.string());
  data::ImportResult result = data::import_dataset(import);
  if (result.manifest.rows.empty()) {
    // An empty manifest would only fail later, in a training run, far from its cause.
    throw common::InputError("no images found under " + import.root.string() + " (" + import.kind +
                             " importer)");
  }
  const fs::path manifest_file = dir / "manifest.csv";
  result.manifest.file = manifest_file;
  data::save_manifest(result.manifest, manifest_file);
  const std::string report = result.report.to_text();
  common::write_file_atomic(dir / "import_report.txt", report);
  write_marker(dir, "import");
  cleanup.release();
  for (const std::string& warning : result.report.warnings) spdlog::warn("{}", warning);
  out << report << "manifest: " << manifest_file.string() << '\n';
  return common::kExitSuccess;
}

int prepare_check(const PrepareCheckOptions& options, std::ostream& out) {
  data::ManifestCheck check;
  check.files_exist = true;
  check.mask_values = options.masks;
  const data::Manifest manifest = data::load_manifest(options.manifest, check);
  const Counts c = count(manifest);
  out << options.manifest.string() << ": OK: " << c.images << " images, " << c.patients
      << " patients, " << c.followups << " with >= 2 time points, " << c.labelled << " labelled"
      << (options.masks ? " (mask values checked)" : "") << '\n';
  return common::kExitSuccess;
}

}  // namespace cltci::run
