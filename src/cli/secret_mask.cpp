// Printable forms of URLs and options that carry secrets.
#include "cli/secret_mask.h"

namespace callagent::cli {

std::string mask_turn_url(const std::string& url) {
  const auto at = url.find('@');
  if (at == std::string::npos) return url;
  const auto scheme = url.find("://");
  return url.substr(0, scheme == std::string::npos ? 0 : scheme + 3) + "***" + url.substr(at);
}

std::string mask_rtmp_url(const std::string& url) {
  const auto slash = url.rfind('/');
  // The slash must come after "scheme://host", else there is no key segment.
  if (slash != std::string::npos && slash > url.find("://") + 2) return url.substr(0, slash + 1) + "***";
  return "***";
}

std::string credential_source(const ConnectionOptions& o) {
  if (!o.token.empty()) return "token";
  if (!o.password_file.empty()) return "password-file";
  if (!o.password.empty()) return "password-option";
  return "environment";
}

}  // namespace callagent::cli
