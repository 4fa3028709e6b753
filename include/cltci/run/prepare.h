// The `prepare` executable as library functions: write the phantom, import a data set into a
// manifest, check a manifest (docs/prepare.md). Each returns the process exit code and throws
// common::InputError (exit 2) for bad input, one line per problem naming the file.
#pragma once

#include "cltci/data/importer.h"
#include "cltci/data/phantom.h"
#include "cltci/data/phantom_export.h"

#include <filesystem>
#include <iosfwd>

namespace cltci::run {

struct PreparePhantomOptions {
  std::filesystem::path output;  ///< the data set's folder (created)
  data::PhantomOptions phantom;
  data::PhantomFormat format = data::PhantomFormat::kPng;
  bool overwrite = false;  ///< replace an earlier `prepare` output in `output`
};

struct PrepareImportOptions {
  data::ImportOptions import;  ///< import.output_dir is where manifest.csv and the report go
  bool overwrite = false;
};

struct PrepareCheckOptions {
  std::filesystem::path manifest;
  bool masks = false;  ///< decode every mask: values in {0,1,2,255}, aspect ratios
};

/// `prepare phantom`: writes the phantom in `format` and prints what it wrote and how to import
/// it. For png, also <output>/manifest.csv.
int prepare_phantom(const PreparePhantomOptions& options, std::ostream& out);

/// `prepare import`: runs the importer, writes <output>/manifest.csv (atomically) and
/// <output>/import_report.txt, and prints the report. A failed import leaves no output folder
/// behind when this call created it.
int prepare_import(const PrepareImportOptions& options, std::ostream& out);

/// `prepare check`: loads and validates a manifest; prints a one-line summary when it is valid.
int prepare_check(const PrepareCheckOptions& options, std::ostream& out);

/// Makes `dir` ready to receive a fresh output: creates it when missing; an existing non-empty
/// folder is an InputError unless `overwrite` is set and the folder holds the marker that
/// `prepare` leaves in its outputs, in which case its contents are removed, or, with `parked`,
/// moved to a hidden sibling folder whose path is stored there (the caller removes it once the
/// new output is complete, or moves it back). Folders `prepare` did not write are never
/// deleted. Returns true when the folder did not exist before.
bool claim_output_dir(const std::filesystem::path& dir,
                      bool overwrite,
                      std::filesystem::path* parked = nullptr);

/// Name of the marker file `prepare` leaves in every output folder.
inline constexpr const char* kPrepareMarker = ".cltci-prepare";

}  // namespace cltci::run
