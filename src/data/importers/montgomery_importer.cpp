// Montgomery County set (datasets.md §3): CXR_png/MCUCXR_<4 digits>_<0|1>.png with
// ManualMask/leftMask and ManualMask/rightMask under the same names; one image per patient.
#include "data/importers/importer_support.h"

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;

void import_montgomery(ImportSession& session) {
  const fs::path top = locate_top(session.options().root, {"MontgomerySet"}, "CXR_png");
  for (const fs::path& file : cxr_png_files(session, top, "Montgomery")) {
    const std::string stem = file.stem().string();
    ManifestRow row = cxr_png_row(session, file);
    // the Montgomery set's readme: 0.0875 mm per pixel (datasets.md §3).
    row.spacing_row_mm = row.spacing_col_mm = 0.0875;
    const fs::path left = top / "ManualMask" / "leftMask" / file.filename();
    const fs::path right = top / "ManualMask" / "rightMask" / file.filename();
    std::error_code error;
    const bool has_left = fs::is_regular_file(left, error);
    const bool has_right = fs::is_regular_file(right, error);
    if (has_left != has_right) {
      session.problem(has_left ? right : left, "missing lung mask (the other side exists)");
      continue;
    }
    if (has_left && !session.attach_lung_masks(row, left, right, stem)) continue;
    session.add(std::move(row), {});
  }
}

}  // namespace cltci::data::importers
