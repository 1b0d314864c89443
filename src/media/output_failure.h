#pragma once
// OutputFailure: an output of the call (a recording, a snapshot, an RTMP
// restream) that failed while the call was running. The failing output is
// stopped and the call goes on; the session collects these for the log, the
// report ("output_errors", docs/report.md) and the exit code (--output-errors).

#include "common/result.h"

#include <string>

namespace callagent::media {

struct OutputFailure {
  std::string output;  // "recording", "snapshot", "rtmp"
  std::string path;    // the file (or the masked URL)
  Error error;         // code: IoErr for a write error (disk full), CantCreate for an open error, ...
};

}  // namespace callagent::media
