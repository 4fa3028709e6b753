// DCMTK's decoders (and the JPEG-LS encoder the test writer uses) live in global registries;
// they are registered once per process, before the first DICOM is loaded, and removed at exit.
#pragma once

namespace cltci::data {

/// Registers the JPEG (baseline/extended/lossless), JPEG-LS and RLE decoders and the JPEG-LS
/// encoder. Thread-safe; later calls do nothing. A no-op in builds without DICOM.
void register_dicom_codecs();

}  // namespace cltci::data
