#include "cli/duration.h"

#include <charconv>
#include <cmath>
#include <string>

namespace callagent::cli {

Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option) {
  auto bad = [&] {
    return Error{ExitCode::Usage, std::string(option) + ": '" + std::string(text) +
                                      "' is not a duration; use e.g. 30s, 500ms, 2m, 1h"};
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  if (number.empty()) return bad();
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (!end || *end != '\0' || !std::isfinite(v) || v < 0) return bad();
  double ms;
  if (unit.empty() || unit == "s")
    ms = v * 1000;
  else if (unit == "ms")
    ms = v;
  else if (unit == "m" || unit == "min")
    ms = v * 60'000;
  else if (unit == "h")
    ms = v * 3'600'000;
  else
    return bad();
  if (ms > 365.0 * 24 * 3'600'000) return bad();
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

}  // namespace callagent::cli
