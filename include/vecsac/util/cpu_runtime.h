/// @brief Process-wide CPU settings the training loop needs to run at full speed.
#pragma once

#include <string>

namespace vecsac {

/// Call first thing in main, before any torch thread pool starts (workers copy
/// the creating thread's floating-point mode). Two settings, both measured on
/// the update loop:
/// - Flush subnormals to zero: Adam's moments decay into the subnormal
///   range after about 700 updates, and every op touching them then runs
///   30-40 % slower. Only values below 1.2e-38 change.
/// - Keep freed heap memory instead of trimming it back to the OS: the update's
///   temporaries are freed and reallocated every step, and with glibc's default
///   thresholds each update took ~370 page faults (7-10 % of an update,
///   26 % of a training run's CPU time).
/// Returns a one-line description of what was set, for logs.
std::string tune_cpu_runtime();

}  // namespace vecsac
