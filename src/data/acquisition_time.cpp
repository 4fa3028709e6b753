#include "cltci/data/acquisition_time.h"

#include "cltci/common/error.h"
#include "data/civil_date.h"

#include <cctype>
#include <cstddef>
#include <limits>
#include <string>

namespace cltci::data {
namespace {

// The number of the `n` digits at `at`, or -1 when they are not all there and digits.
long long digits_at(const std::string& text, std::size_t at, std::size_t n) {
  if (at + n > text.size()) return -1;
  long long value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool leap_year(long long year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(long long year, long long month) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap_year(year) ? 29U : kDays[month - 1];
}

}  // namespace

double iso_to_days(const std::string& iso) {
  if (iso.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto malformed = [&]() {
    return common::InputError("time '" + iso +
                              "' is not an ISO 8601 date-time (YYYY-MM-DD[Thh:mm[:ss[.f]]])");
  };
  // The same grammar as the manifest's check (manifest.cpp), plus the ranges it leaves open.
  const long long year = digits_at(iso, 0, 4);
  const long long month = digits_at(iso, 5, 2);
  const long long day = digits_at(iso, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || iso.size() < 10 || iso[4] != '-' ||
      iso[7] != '-' || day > days_in_month(year, month)) {
    throw malformed();
  }
  long long hour = 0, minute = 0, second = 0;
  double fraction = 0;
  if (iso.size() > 10) {
    hour = digits_at(iso, 11, 2);
    minute = digits_at(iso, 14, 2);
    if (iso[10] != 'T' || iso.size() < 16 || iso[13] != ':' || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59) {
      throw malformed();
    }
    if (iso.size() > 16) {
      second = digits_at(iso, 17, 2);
      // 60 is a leap second, which ISO 8601 allows.
      if (iso[16] != ':' || iso.size() < 19 || second < 0 || second > 60) throw malformed();
      if (iso.size() > 19) {
        if (iso[19] != '.' || iso.size() == 20) throw malformed();
        double scale = 0.1;
        for (std::size_t i = 20; i < iso.size(); ++i, scale /= 10) {
          if (!std::isdigit(static_cast<unsigned char>(iso[i]))) throw malformed();
          fraction += (iso[i] - '0') * scale;
        }
      }
    }
  }
  const long long date =
      detail::civil_days(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const double seconds = static_cast<double>(hour * 3600 + minute * 60 + second) + fraction;
  return static_cast<double>(date) + seconds / 86400.0;
}

}  // namespace cltci::data
