// The transfer syntaxes DCMTK can read only once their codecs are registered: JPEG, JPEG-LS and
// RLE compressed pixel data (and the JPEG-LS encoder the test writer uses). The codecs live in
// DCMTK's global registries; they are registered once per process, before the first DICOM is
// loaded, and removed at exit. The DICOM reader and writer themselves are in dicom_codec.cpp.
#pragma once

namespace cltci::data {

/// Registers the JPEG (baseline/extended/lossless), JPEG-LS and RLE decoders and the JPEG-LS
/// encoder. Thread-safe; later calls do nothing. A no-op in builds without DICOM.
void register_transfer_syntax_codecs();

}  // namespace cltci::data
