// Montgomery County set (datasets.md §3): CXR_png/MCUCXR_<4 digits>_<0|1>.png with
// ManualMask/leftMask and ManualMask/rightMask under the same names; one image per patient.
#include "data/importers/importer_support.h"

namespace cltci::data::importers {
namespace fs = std::filesystem;

void import_montgomery(ImportSession& session) {
  const fs::path top = locate_top(session.options().root, {"MontgomerySet"}, "CXR_png");
  const fs::path images = top / "CXR_png";
  std::error_code error;
  if (!fs::is_directory(images, error)) {
    session.fatal("'" + images.string() + "': Montgomery CXR_png folder not found");
    return;
  }
  for (const fs::path& file : list_files(images)) {
    if (lower(file.extension().string()) != ".png") continue;
    const std::string stem = file.stem().string();
    ManifestRow row;
    row.path = fs::absolute(file).lexically_normal();
    // The trailing _0/_1 is the TB label, not part of the patient's identity.
    const std::size_t label = stem.find_last_of('_');
    row.patient_id = session.patient_id(label == std::string::npos ? stem : stem.substr(0, label));
    row.view = "PA";
    // the Montgomery set's readme: 0.0875 mm per pixel (datasets.md §3).
    row.spacing_row_mm = row.spacing_col_mm = 0.0875;
    const fs::path left = top / "ManualMask" / "leftMask" / file.filename();
    const fs::path right = top / "ManualMask" / "rightMask" / file.filename();
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
