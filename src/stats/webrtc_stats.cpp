#include "stats/webrtc_stats.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace callagent::stats {

namespace {

std::optional<uint64_t> get_u64(const GstStructure* s, const char* f) {
  const GValue* v = gst_structure_get_value(s, f);
  if (!v) return std::nullopt;
  if (G_VALUE_HOLDS_UINT64(v)) return g_value_get_uint64(v);
  if (G_VALUE_HOLDS_INT64(v)) return static_cast<uint64_t>(std::max<gint64>(0, g_value_get_int64(v)));
  if (G_VALUE_HOLDS_UINT(v)) return g_value_get_uint(v);
  if (G_VALUE_HOLDS_INT(v)) return static_cast<uint64_t>(std::max(0, g_value_get_int(v)));
  return std::nullopt;
}

std::optional<int64_t> get_i64(const GstStructure* s, const char* f) {
  const GValue* v = gst_structure_get_value(s, f);
  if (!v) return std::nullopt;
  if (G_VALUE_HOLDS_INT64(v)) return g_value_get_int64(v);
  if (G_VALUE_HOLDS_UINT64(v)) return static_cast<int64_t>(g_value_get_uint64(v));
  if (G_VALUE_HOLDS_INT(v)) return g_value_get_int(v);
  if (G_VALUE_HOLDS_UINT(v)) return g_value_get_uint(v);
  return std::nullopt;
}

std::optional<double> get_double(const GstStructure* s, const char* f) {
  const GValue* v = gst_structure_get_value(s, f);
  if (!v) return std::nullopt;
  if (G_VALUE_HOLDS_DOUBLE(v)) return g_value_get_double(v);
  if (G_VALUE_HOLDS_FLOAT(v)) return g_value_get_float(v);
  return std::nullopt;
}

std::string get_string(const GstStructure* s, const char* f) {
  const char* v = gst_structure_get_string(s, f);
  return v ? v : "";
}

// The type of one stats entry; -1 if it has none.
int stats_type(const GstStructure* s) {
  const GValue* v = gst_structure_get_value(s, "type");
  if (!v) return -1;
  if (G_VALUE_HOLDS_ENUM(v)) return g_value_get_enum(v);
  if (G_VALUE_HOLDS_INT(v)) return g_value_get_int(v);
  return -1;
}

std::string enum_nick(const GstStructure* s, const char* f) {
  const GValue* v = gst_structure_get_value(s, f);
  if (!v) return "";
  if (G_VALUE_HOLDS_STRING(v)) return g_value_get_string(v);
  if (G_VALUE_HOLDS_ENUM(v)) {
    g_autoptr(GTypeClass) k = static_cast<GTypeClass*>(g_type_class_ref(G_VALUE_TYPE(v)));
    GEnumValue* ev = g_enum_get_value(G_ENUM_CLASS(k), g_value_get_enum(v));
    return ev ? ev->value_nick : "";
  }
  return "";
}

struct Entries {
  std::map<std::string, const GstStructure*> by_id;
};

gboolean collect(GQuark field, const GValue* value, gpointer data) {
  auto* e = static_cast<Entries*>(data);
  if (G_VALUE_HOLDS(value, GST_TYPE_STRUCTURE)) {
    const GstStructure* s = gst_value_get_structure(value);
    std::string id = get_string(s, "id");
    if (id.empty()) id = g_quark_to_string(field);
    e->by_id[id] = s;
  }
  return TRUE;
}

std::string codec_name(const GstStructure* codec) {
  if (!codec) return "";
  std::string mime = get_string(codec, "mime-type");
  if (!mime.empty()) {
    auto slash = mime.find('/');
    std::string n = slash == std::string::npos ? mime : mime.substr(slash + 1);
    for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return n;
  }
  return "";
}

bool codec_is_video(const GstStructure* codec, bool fallback) {
  if (!codec) return fallback;
  std::string mime = get_string(codec, "mime-type");
  if (!mime.empty()) return mime.rfind("video/", 0) == 0;
  guint rate = 0;
  if (gst_structure_get_uint(codec, "clock-rate", &rate)) return rate == 90000;
  return fallback;
}

std::string address_of(const GstStructure* cand) {
  if (!cand) return "";
  std::string addr = get_string(cand, "address");
  if (addr.empty()) addr = get_string(cand, "ip");
  auto port = get_u64(cand, "port");
  if (port) return addr + ":" + std::to_string(*port);
  return addr;
}

}  // namespace

RawStats parse_webrtc_stats(const GstStructure* reply) {
  RawStats out;
  if (!reply) return out;
  Entries e;
  gst_structure_foreach(reply, &collect, &e);
  auto find = [&](const std::string& id) -> const GstStructure* {
    auto it = e.by_id.find(id);
    return it == e.by_id.end() ? nullptr : it->second;
  };
  std::vector<const GstStructure*> pairs;
  for (const auto& [id, s] : e.by_id) {
    const int type = stats_type(s);
    if (type == GST_WEBRTC_STATS_INBOUND_RTP || type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
      const bool in = type == GST_WEBRTC_STATS_INBOUND_RTP;
      RtpRaw r;
      guint ssrc = 0;
      if (gst_structure_get_uint(s, "ssrc", &ssrc)) r.ssrc = ssrc;
      const GstStructure* codec = find(get_string(s, "codec-id"));
      std::string kind = get_string(s, "kind");
      r.video = kind.empty() ? codec_is_video(codec, false) : kind == "video";
      r.codec = codec_name(codec);
      if (r.codec.empty()) r.codec = r.video ? "VP8" : "OPUS";  // what we negotiate
      r.bytes = get_u64(s, in ? "bytes-received" : "bytes-sent").value_or(0);
      r.packets = get_u64(s, in ? "packets-received" : "packets-sent").value_or(0);
      r.nack = get_u64(s, "nack-count").value_or(0);
      r.pli = get_u64(s, "pli-count").value_or(0);
      r.fir = get_u64(s, "fir-count").value_or(0);
      if (in) {
        // 1.22 puts the receiver's loss only into the nested rtpsource stats
        // (negative with duplicates/retransmissions: clamped).
        auto lost = get_i64(s, "packets-lost");
        if (!lost) {
          const GValue* nested = gst_structure_get_value(s, "gst-rtpsource-stats");
          if (nested && G_VALUE_HOLDS(nested, GST_TYPE_STRUCTURE))
            lost = get_i64(gst_value_get_structure(nested), "packets-lost");
        }
        r.packets_lost = std::max<int64_t>(0, lost.value_or(0));
        r.jitter_s = get_double(s, "jitter");
      } else if (const GstStructure* remote = find(get_string(s, "remote-id"))) {
        r.packets_lost = std::max<int64_t>(0, get_i64(remote, "packets-lost").value_or(0));
        r.jitter_s = get_double(remote, "jitter");
        r.rtt_s = get_double(remote, "round-trip-time");
        r.fraction_lost = get_double(remote, "fraction-lost");
      }
      (in ? out.inbound : out.outbound).push_back(std::move(r));
    } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
      auto rtt = get_double(s, "round-trip-time");
      if (rtt && *rtt > 0 && (!out.rtt_s || *rtt < *out.rtt_s)) out.rtt_s = rtt;
    } else if (type == GST_WEBRTC_STATS_CANDIDATE_PAIR) {
      pairs.push_back(s);
    }
  }
  // The selected pair: 1.22 reports only the selected one per transport (if
  // any); prefer one with both candidates known.
  for (const GstStructure* p : pairs) {
    const GstStructure* l = find(get_string(p, "local-candidate-id"));
    const GstStructure* r = find(get_string(p, "remote-candidate-id"));
    if (!l && !r) continue;
    CandidatePair cp;
    cp.local_type = enum_nick(l ? l : p, "candidate-type");
    cp.remote_type = r ? enum_nick(r, "candidate-type") : "";
    cp.protocol = enum_nick(l ? l : p, "protocol");
    if (cp.protocol.empty() && r) cp.protocol = enum_nick(r, "protocol");
    cp.local_address = address_of(l);
    cp.remote_address = address_of(r);
    // 1.22 derives it from its `turn-server` property only ("none" when
    // the servers came through add-turn-server).
    if (cp.local_type == "relay") {
      std::string rp = l ? get_string(l, "relay-protocol") : "";
      if (rp == "udp" || rp == "tcp" || rp == "tls") cp.relay_protocol = rp;
    }
    out.pair = cp;
    break;
  }
  std::sort(out.inbound.begin(), out.inbound.end(), [](auto& a, auto& b) { return a.video > b.video; });
  std::sort(out.outbound.begin(), out.outbound.end(), [](auto& a, auto& b) { return a.video > b.video; });
  return out;
}

std::string describe(const CandidatePair& p) {
  std::string s = p.local_type + "/" + p.protocol;
  if (!p.relay_protocol.empty()) s += " (TURN over " + p.relay_protocol + ")";
  return s + " " + p.local_address + " -> " + p.remote_type + "/" + p.protocol + " " + p.remote_address;
}

std::string stats_to_string(const GstStructure* reply) {
  if (!reply) return "(null)";
  g_autofree gchar* s = gst_structure_to_string(reply);
  return s;
}

}  // namespace callagent::stats
