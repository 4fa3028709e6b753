#include "cltci/common/interrupt.h"

#include "cltci/common/error.h"

#include <csignal>
#include <string>

namespace cltci::common {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_signal(int signal_number) {
  if (g_interrupted != 0) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  g_interrupted = 1;
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() noexcept { return g_interrupted != 0; }

void request_interrupt(bool requested) noexcept { g_interrupted = requested ? 1 : 0; }

void throw_if_interrupted(const char* what_was_saved) {
  if (interrupt_requested()) {
    throw Interrupted(std::string("interrupted; ") + what_was_saved);
  }
}

}  // namespace cltci::common
