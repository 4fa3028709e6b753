// libFuzzer target: DICOM tag reading (data::read_dicom_tags, through DCMTK up to the pixel
// data), as `prepare dicom` groups, orders and filters an archive, and the DA/TM/DT joining
// under it (data::dicom_datetime_iso) on the raw bytes.
#include "cltci/common/error.h"
#include "cltci/data/dicom_tags.h"
#include "fuzz_input_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

// "YYYY-MM-DDThh:mm:ss" with an optional ".ffffff": what the importers sort patients' films by.
void check_iso(const std::string& iso) {
  if (iso.empty()) return;
  if (iso.size() < 19 || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T' || iso[13] != ':' ||
      iso[16] != ':' || (iso.size() > 19 && iso[19] != '.')) {
    std::fprintf(stderr, "dicom: '%s' is not an ISO 8601 date-time\n", iso.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The same bytes as a DA and a TM value, split at the first backslash (DICOM's separator).
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t split = text.find('\\');
  check_iso(cltci::data::dicom_datetime_iso(
      std::string(text.substr(0, split)),
      split == std::string_view::npos ? std::string() : std::string(text.substr(split + 1))));

  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".dcm");
  try {
    const cltci::data::DicomTags tags = cltci::data::read_dicom_tags(file);
    check_iso(tags.datetime);
    cltci::data::dicom_view(tags);
  } catch (const cltci::common::InputError&) {
  }
  return 0;
}
