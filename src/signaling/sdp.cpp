#include "signaling/sdp.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace callagent::signaling {

namespace {
std::string_view trim(std::string_view l) {
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
  while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
  return l;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "a=NAME:VALUE" -> VALUE when the line is that attribute.
bool attr(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() < name.size() + 3 || line.substr(0, 2) != "a=") return false;
  std::string_view rest = line.substr(2);
  if (rest.substr(0, name.size()) != name) return false;
  rest.remove_prefix(name.size());
  if (rest.empty()) {
    *value = {};
    return true;
  }
  if (rest.front() != ':') return false;
  *value = trim(rest.substr(1));
  return true;
}

// "PT rest" -> PT, rest.
bool split_pt(std::string_view v, int* pt, std::string_view* rest) {
  size_t sp = v.find(' ');
  std::string_view head = v.substr(0, sp);
  if (head == "*") {
    *pt = -1;
  } else {
    auto n = to_int(head);
    if (!n) return false;
    *pt = *n;
  }
  *rest = sp == std::string_view::npos ? std::string_view{} : trim(v.substr(sp + 1));
  return true;
}

SdpCodec& codec_for(SdpMediaSection& m, int pt) {
  for (auto& c : m.codecs)
    if (c.payload_type == pt) return c;
  SdpCodec c;
  c.payload_type = pt;
  m.codecs.push_back(std::move(c));
  return m.codecs.back();
}

void set_direction(std::string_view dir, bool* sends, bool* receives) {
  *sends = dir == "sendrecv" || dir == "sendonly";
  *receives = dir == "sendrecv" || dir == "recvonly";
}
}  // namespace

std::optional<int> SdpMediaSection::payload_type(std::string_view encoding) const {
  const std::string want = upper(encoding);
  for (const auto& c : codecs) {
    if (c.encoding != want) continue;
    if (want == "H264") {
      // Browsers offer several H.264 variants; we packetize in mode 1.
      auto it = c.fmtp.find("packetization-mode");
      if (it == c.fmtp.end() || it->second != "1") continue;
    }
    return c.payload_type;
  }
  return std::nullopt;
}

const SdpCodec* SdpMediaSection::codec(int pt) const {
  for (const auto& c : codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

std::optional<int> SdpMediaSection::rtx_for(int pt) const {
  for (const auto& c : codecs) {
    if (c.encoding != "RTX") continue;
    auto it = c.fmtp.find("apt");
    if (it != c.fmtp.end() && to_int(it->second) == pt) return c.payload_type;
  }
  return std::nullopt;
}

std::optional<int> SdpMediaSection::extmap_id(std::string_view uri) const {
  for (const auto& [id, u] : extmaps)
    if (u == uri) return id;
  return std::nullopt;
}

bool Sdp::has_kind(std::string_view kind) const {
  return std::any_of(media.begin(), media.end(), [&](const auto& m) { return m.kind == kind; });
}

const SdpMediaSection* Sdp::find_kind(std::string_view kind) const {
  for (const auto& m : media)
    if (m.kind == kind && !m.rejected) return &m;
  return nullptr;
}

std::optional<int> Sdp::mline_for_mid(std::string_view mid) const {
  for (const auto& m : media)
    if (m.mid == mid) return m.index;
  return std::nullopt;
}

std::optional<Sdp> parse_sdp(std::string_view text) {
  Sdp sdp;
  bool have_origin = false;
  bool session_sends = true, session_receives = true;
  bool port_zero = false, bundle_only = false, have_dir = false;
  SdpMediaSection* cur = nullptr;

  auto close_section = [&] {
    if (!cur) return;
    cur->rejected = port_zero && !bundle_only;
    if (!have_dir) {
      cur->remote_sends = session_sends;
      cur->remote_receives = session_receives;
    }
  };

  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    std::string_view v;
    if (line.substr(0, 2) == "o=") {
      // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
      size_t a = line.find(' ');
      if (a == std::string_view::npos) return std::nullopt;
      size_t b = line.find(' ', a + 1);
      std::string_view id = line.substr(a + 1, b == std::string_view::npos ? b : b - a - 1);
      if (id.empty()) return std::nullopt;
      for (char c : id)
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      sdp.session_id = std::string(id);
      sdp.origin_username = std::string(line.substr(2, a - 2));
      if (size_t last = line.rfind(' '); last != std::string_view::npos && last > a)
        sdp.origin_address = std::string(line.substr(last + 1));
      have_origin = true;
    } else if (line.substr(0, 2) == "s=") {
      sdp.session_name = std::string(line.substr(2));
    } else if (line.substr(0, 2) == "m=") {
      close_section();
      // m=<media> <port> <proto> <fmt> ...
      SdpMediaSection m;
      m.index = static_cast<int>(sdp.media.size());
      std::string_view rest = line.substr(2);
      size_t sp = rest.find(' ');
      m.kind = std::string(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      sp = rest.find(' ');
      std::string_view port = rest.substr(0, sp);
      port_zero = port == "0" || port.substr(0, 2) == "0/";
      bundle_only = false;
      have_dir = false;
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      sp = rest.find(' ');  // proto
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      while (!rest.empty()) {
        sp = rest.find(' ');
        if (auto pt = to_int(rest.substr(0, sp))) codec_for(m, *pt);
        rest = sp == std::string_view::npos ? std::string_view{} : trim(rest.substr(sp + 1));
      }
      sdp.media.push_back(std::move(m));
      cur = &sdp.media.back();
    } else if (attr(line, "ice-ufrag", &v)) {
      if (sdp.ice_ufrag.empty()) sdp.ice_ufrag = std::string(v);
    } else if (line == "a=sendrecv" || line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive") {
      std::string_view dir = line.substr(2);
      if (cur) {
        set_direction(dir, &cur->remote_sends, &cur->remote_receives);
        have_dir = true;
      } else {
        set_direction(dir, &session_sends, &session_receives);
      }
    } else if (!cur) {
      continue;  // other session-level lines
    } else if (attr(line, "mid", &v)) {
      cur->mid = std::string(v);
    } else if (line == "a=bundle-only") {
      bundle_only = true;
    } else if (attr(line, "rtpmap", &v)) {
      int pt;
      std::string_view rest;
      if (!split_pt(v, &pt, &rest) || pt < 0) continue;
      // ENCODING/CLOCK[/CHANNELS]
      SdpCodec& c = codec_for(*cur, pt);
      size_t s1 = rest.find('/');
      c.encoding = upper(rest.substr(0, s1));
      if (s1 != std::string_view::npos) {
        std::string_view tail = rest.substr(s1 + 1);
        size_t s2 = tail.find('/');
        c.clock_rate = to_int(tail.substr(0, s2)).value_or(0);
        if (s2 != std::string_view::npos) c.channels = to_int(tail.substr(s2 + 1)).value_or(0);
      }
    } else if (attr(line, "fmtp", &v)) {
      int pt;
      std::string_view rest;
      if (!split_pt(v, &pt, &rest) || pt < 0) continue;
      SdpCodec& c = codec_for(*cur, pt);
      while (!rest.empty()) {
        size_t semi = rest.find(';');
        std::string_view kv = trim(rest.substr(0, semi));
        size_t eq = kv.find('=');
        if (eq != std::string_view::npos)
          c.fmtp[std::string(trim(kv.substr(0, eq)))] = std::string(trim(kv.substr(eq + 1)));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      }
    } else if (attr(line, "rtcp-fb", &v)) {
      int pt;
      std::string_view rest;
      if (!split_pt(v, &pt, &rest) || rest.empty()) continue;
      if (pt < 0) {
        for (auto& c : cur->codecs) c.feedback.insert(std::string(rest));
      } else {
        codec_for(*cur, pt).feedback.insert(std::string(rest));
      }
    } else if (attr(line, "extmap", &v)) {
      // a=extmap:ID[/direction] URI [attributes]
      size_t sp = v.find(' ');
      if (sp == std::string_view::npos) continue;
      std::string_view id = v.substr(0, sp);
      id = id.substr(0, id.find('/'));
      auto n = to_int(id);
      std::string_view uri = trim(v.substr(sp + 1));
      uri = uri.substr(0, uri.find(' '));
      if (n) cur->extmaps[*n] = std::string(uri);
    } else if (attr(line, "ssrc", &v)) {
      size_t sp = v.find(' ');
      std::string_view id = v.substr(0, sp);
      uint32_t ssrc = 0;
      auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), ssrc);
      if (ec == std::errc() && p == id.data() + id.size() &&
          std::find(cur->ssrcs.begin(), cur->ssrcs.end(), ssrc) == cur->ssrcs.end())
        cur->ssrcs.push_back(ssrc);
    }
  }
  close_section();
  if (!have_origin) return std::nullopt;
  return sdp;
}

std::string implementation_of(const Sdp& sdp) {
  if (sdp.session_name.rfind("callagent", 0) == 0) return sdp.session_name;
  if (sdp.origin_username.rfind("mozilla...", 0) == 0) return "Firefox";
  if (sdp.origin_username == "-" && sdp.origin_address == "127.0.0.1") return "libwebrtc";
  if (sdp.origin_username == "-" && sdp.origin_address == "0.0.0.0") return "GStreamer webrtcbin";
  return "";
}

int compare_session_ids(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace callagent::signaling
