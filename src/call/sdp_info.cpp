#include "call/sdp_info.h"

#include <cctype>

namespace callagent::call {

namespace {
std::string_view trim_cr(std::string_view l) {
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
  return l;
}
}  // namespace

std::optional<SdpInfo> parse_sdp_info(std::string_view sdp) {
  SdpInfo info;
  bool have_origin = false;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = trim_cr(sdp.substr(pos, end - pos));
    pos = end + 1;
    if (line.substr(0, 2) == "o=") {
      // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
      size_t a = line.find(' ');
      if (a == std::string_view::npos) return std::nullopt;
      size_t b = line.find(' ', a + 1);
      std::string_view id = line.substr(a + 1, b == std::string_view::npos ? b : b - a - 1);
      if (id.empty()) return std::nullopt;
      for (char c : id)
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      info.session_id = std::string(id);
      have_origin = true;
    } else if (line.substr(0, 12) == "a=ice-ufrag:" && info.ice_ufrag.empty()) {
      info.ice_ufrag = std::string(line.substr(12));
    } else if (line.substr(0, 8) == "m=audio ") {
      info.has_audio = true;
    } else if (line.substr(0, 8) == "m=video ") {
      info.has_video = true;
    }
  }
  if (!have_origin) return std::nullopt;
  return info;
}

int compare_session_ids(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace callagent::call
