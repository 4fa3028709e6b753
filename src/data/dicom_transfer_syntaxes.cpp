#include "data/dicom_transfer_syntaxes.h"

#include "cltci/build_info.h"

#if CLTCI_WITH_DICOM
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>
#endif

namespace cltci::data {

#if CLTCI_WITH_DICOM
namespace {

struct CodecRegistry {
  CodecRegistry() {
    // DCMTK logs warnings of its own to stderr; every failure reaches the user as an InputError
    // with DCMTK's reason, so its console output would only repeat it.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  }
  ~CodecRegistry() {
    DcmRLEDecoderRegistration::cleanup();
    DJLSEncoderRegistration::cleanup();
    DJLSDecoderRegistration::cleanup();
    DJDecoderRegistration::cleanup();
  }
  CodecRegistry(const CodecRegistry&) = delete;
  CodecRegistry& operator=(const CodecRegistry&) = delete;
};

}  // namespace

void register_transfer_syntax_codecs() { static const CodecRegistry registry; }
#else
void register_transfer_syntax_codecs() {}
#endif

}  // namespace cltci::data
