#pragma once
// Durations on the command line: "30s", "1.5s", "500ms", "2m", "1h", or a
// bare number of seconds.

#include "common/result.h"

#include <chrono>
#include <string_view>

namespace callagent::cli {

Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option);

}  // namespace callagent::cli
