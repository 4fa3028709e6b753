// JSRT `.IMG` films with the SCR lung masks (datasets.md §1-2): the masks sit in
// <fold>/masks/{left lung,right lung}/<case>.gif, one fold folder per case; the fold becomes the
// row's split. SCR masks are 1024x1024 for the 2048x2048 films: same aspect ratio, so they are
// kept at their own resolution (the cache resizes both).
#include "cltci/data/image_io.h"
#include "data/importers/importer_support.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;
namespace {

constexpr std::uintmax_t kJsrtBytes = std::uintmax_t{2048} * 2048 * 2;  // as read_jsrt_img

struct CaseMasks {
  fs::path left;
  fs::path right;
  std::string fold;
};

}  // namespace

void import_jsrt(ImportSession& session) {
  std::map<std::string, fs::path> images;  // by upper-case stem
  std::map<std::string, CaseMasks> masks;
  const auto upper = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  for (const fs::path& file : list_files(session.options().root)) {
    const std::string ext = lower(file.extension().string());
    const std::string stem = upper(file.stem().string());
    if (ext == ".img") {
      images[stem] = file;
    } else if (ext == ".gif" && file.parent_path().parent_path().filename() == "masks") {
      const std::string organ = file.parent_path().filename().string();
      CaseMasks& entry = masks[stem];
      const std::string fold = file.parent_path().parent_path().parent_path().filename().string();
      if (organ != "left lung" && organ != "right lung") continue;
      if (!entry.fold.empty() && entry.fold != fold) {
        session.problem(file, "case " + stem + " has masks in two folds ('" + entry.fold +
                                  "' and '" + fold + "')");
        continue;
      }
      entry.fold = fold;
      (organ == "left lung" ? entry.left : entry.right) = file;
    }
  }
  if (images.empty()) {
    session.fatal("'" + session.options().root.string() + "': no JSRT .IMG files found");
    return;
  }
  // SCR splits the cases by number parity; which folder holds the odd ones is not documented,
  // so the fold comes from the folder and a mixed-parity fold is reported.
  std::map<std::string, std::set<int>> parities;
  static const std::regex case_number(R"(\D*(\d+))");
  for (const auto& [stem, case_masks] : masks) {
    std::smatch m;
    if (std::regex_match(stem, m, case_number) && !case_masks.fold.empty()) {
      parities[case_masks.fold].insert(std::stoi(m[1]) % 2);
    }
    if (!images.count(stem)) {
      session.problem(case_masks.left.empty() ? case_masks.right : case_masks.left,
                      "SCR mask without its JSRT image " + stem + ".IMG");
    }
  }
  for (const auto& [fold, seen] : parities) {
    if (seen.size() > 1) {
      session.warn("SCR fold '" + fold + "' holds both odd and even case numbers");
    }
  }
  for (const auto& [stem, image] : images) {
    // The size is the raw format's only check and costs no read; without it a cropped or 8-bit
    // export is imported and fails only when a training run decodes it.
    std::error_code error;
    const std::uintmax_t bytes = fs::file_size(image, error);
    if (error || bytes != kJsrtBytes) {
      session.problem(image, "a JSRT .IMG must be " + std::to_string(kJsrtBytes) +
                                 " bytes (2048x2048 big-endian 16-bit), found " +
                                 (error ? error.message() : std::to_string(bytes)));
      continue;
    }
    ManifestRow row;
    row.path = fs::absolute(image).lexically_normal();
    row.patient_id = session.patient_id(stem);
    row.view = "PA";
    // JSRT films were digitised at 0.175 mm per pixel (2048 x 2048; datasets.md §1).
    row.spacing_row_mm = row.spacing_col_mm = 0.175;
    const auto it = masks.find(stem);
    if (it != masks.end()) {
      const CaseMasks& m = it->second;
      if (m.left.empty() || m.right.empty()) {
        session.problem(m.left.empty() ? m.right : m.left, std::string("SCR case without its ") +
                                                               (m.left.empty() ? "left" : "right") +
                                                               " lung mask");
        continue;
      }
      if (!session.attach_lung_masks(row, m.left, m.right, stem)) continue;
      row.split = m.fold;
    }
    session.add(std::move(row), {});
  }
}

}  // namespace cltci::data::importers
