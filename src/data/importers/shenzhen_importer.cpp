// Shenzhen set (datasets.md §4): CXR_png/CHNCXR_<4 digits>_<0|1>.png. Its masks are third-party
// (one binary mask for both lungs, e.g. masks/CHNCXR_0001_0_mask.png); the two lungs are split by
// connected components, which is lossy, so the report flags these labels as derived.
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/lung_masks.h"
#include "data/importers/importer_support.h"

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;

void import_shenzhen(ImportSession& session) {
  const fs::path top = locate_top(session.options().root, {"ChinaSet_AllFiles"}, "CXR_png");
  std::size_t derived = 0;
  bool masks_ignored = false;
  for (const fs::path& file : cxr_png_files(session, top, "Shenzhen")) {
    const std::string stem = file.stem().string();
    ManifestRow row = cxr_png_row(session, file);
    std::error_code error;
    fs::path mask_file;
    for (const char* folder : {"masks", "mask"}) {
      for (const std::string& name : {stem + "_mask.png", stem + ".png"}) {
        for (const fs::path& base : {top, session.options().root}) {
          if (mask_file.empty() && fs::is_regular_file(base / folder / name, error)) {
            mask_file = base / folder / name;
          }
        }
      }
    }
    if (!mask_file.empty()) {
      if (session.options().output_dir.empty()) {
        masks_ignored = true;
      } else {
        cv::Mat both;
        try {
          both = read_mask(mask_file);
        } catch (const common::InputError& e) {
          session.problem(mask_file, e.what());
          continue;
        }
        const cv::Mat labels = split_lungs_by_components(both);
        if (labels.empty()) {
          session.warn("'" + mask_file.string() + "': fewer than two lung regions; image kept " +
                       "without labels");
        } else {
          session.attach_label_map(row, labels, stem);
          ++derived;
        }
      }
    }
    session.add(std::move(row), {});
  }
  if (masks_ignored) {
    session.warn("Shenzhen masks need an output folder for the derived label maps; imported " +
                 std::string("without labels"));
  }
  if (derived > 0) {
    session.warn(std::to_string(derived) + " Shenzhen label maps derived from one-mask-for-both-" +
                 "lungs by connected components: do not use them as an evaluation reference");
  }
}

}  // namespace cltci::data::importers
