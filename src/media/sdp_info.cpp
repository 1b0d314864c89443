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

std::string candidate_address(std::string_view candidate) {
  std::istringstream in{std::string(candidate)};
  std::vector<std::string> t;
  for (std::string w; in >> w;) t.push_back(w);
  return t.size() >= 5 ? t[4] : std::string();
}

bool is_tcp_candidate(std::string_view candidate) {
  std::istringstream in{std::string(candidate)};
  std::vector<std::string> t;
  for (std::string w; in >> w && t.size() < 3;) t.push_back(w);
  return t.size() == 3 && g_ascii_strcasecmp(t[2].c_str(), "tcp") == 0;
}

}  // namespace callagent::media
