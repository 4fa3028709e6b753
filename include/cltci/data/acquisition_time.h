// Acquisition times as numbers. The manifest keeps a row's time as ISO 8601 text (text order is
// time order); positives defined by time (same patient within a window, or weighted by the
// interval) need it on a line: days since 1970-01-01T00:00, fractional.
//
// No time zone is applied: manifest times are local, possibly shifted (MIMIC), and only
// intervals between the images of one patient are ever used.
#pragma once

#include <cmath>
#include <string>

namespace cltci::data {

/// Days since 1970-01-01T00:00 of `YYYY-MM-DD[Thh:mm[:ss[.f]]]` (the manifest's `time` format;
/// the clock part contributes its fraction of a day). An empty string is "undated": quiet NaN.
/// Throws common::InputError naming the text when it is not such a time or names no real one
/// (month 13, February 30, 24:00).
double iso_to_days(const std::string& iso);

/// Whether a value of iso_to_days (or of the cache's days) is a time rather than "undated".
inline bool is_dated(double days) { return !std::isnan(days); }

}  // namespace cltci::data
