// SIGINT/SIGTERM handling: the handler only sets a flag; training loops poll it at step
// boundaries, save a checkpoint and throw common::Interrupted (exit code 130).
#pragma once

namespace cltci::common {

/// Installs handlers for SIGINT and SIGTERM. A second signal while the first is being handled
/// restores the default action, so a stuck save can still be killed with another Ctrl-C.
void install_interrupt_handlers();

/// True once SIGINT or SIGTERM arrived (or request_interrupt was called).
bool interrupt_requested() noexcept;

/// Sets (or, with false, clears) the flag by hand: for tests and for embedding applications.
void request_interrupt(bool requested = true) noexcept;

/// Throws Interrupted when the flag is set. `what_was_saved` goes into the message.
void throw_if_interrupted(const char* what_was_saved);

}  // namespace cltci::common
