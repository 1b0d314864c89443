#pragma once
// Secrets that must not leave the process through the report, the logs or
// printed options: the password, the token, TURN credentials and an RTMP
// stream key. These functions make the printable forms; the report's
// options (join_report.h) are built only from them.

#include "cli/common_options.h"

#include <string>

namespace callagent::cli {

// "turn://user:pass@host:3478" -> "turn://***@host:3478"; a URL without
// user info is returned as it is.
std::string mask_turn_url(const std::string& url);

// "rtmp://host/app/STREAMKEY" -> "rtmp://host/app/***": the last path
// segment is the key. A URL without a path becomes "***".
std::string mask_rtmp_url(const std::string& url);

// Where the credentials come from, never what they are: "token",
// "password-file", "password-option" or "environment".
std::string credential_source(const ConnectionOptions& o);

}  // namespace callagent::cli
