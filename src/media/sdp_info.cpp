#include "media/sdp_info.h"

#include <glib.h>

#include <sstream>
#include <vector>

namespace callagent::media {

std::string sanitize_candidate(std::string_view candidate) {
  std::istringstream in{std::string(candidate)};
  std::vector<std::string> t;
  for (std::string w; in >> w;) t.push_back(w);
  // candidate:F component transport priority address port typ TYPE
  if (t.size() < 8 || t[0].rfind("candidate:", 0) != 0 || t[6] != "typ") return {};
  std::string out;
  for (size_t i = 0; i < 8; ++i) out += (i ? " " : "") + t[i];
  for (size_t i = 8; i + 1 < t.size(); i += 2) {
    if (t[i] == "raddr" || t[i] == "rport" || t[i] == "tcptype") out += " " + t[i] + " " + t[i + 1];
  }
  return out;
}

namespace {
// Field `index` (0-based, blank-separated) of a candidate line, or "".
std::string candidate_field(std::string_view candidate, size_t index) {
  std::istringstream in{std::string(candidate)};
  std::string w;
  for (size_t i = 0; in >> w; ++i)
    if (i == index) return w;
  return {};
}
}  // namespace

std::string candidate_address(std::string_view candidate) { return candidate_field(candidate, 4); }

bool is_tcp_candidate(std::string_view candidate) {
  return g_ascii_strcasecmp(candidate_field(candidate, 2).c_str(), "tcp") == 0;
}

}  // namespace callagent::media
