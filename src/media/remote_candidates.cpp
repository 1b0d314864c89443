#include "media/remote_candidates.h"

#include "common/logging.h"
#include "media/sdp_info.h"

#include <gio/gio.h>

#include <memory>
#include <utility>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

bool is_mdns_name(const std::string& address) {
  return address.size() > 6 && address.compare(address.size() - 6, 6, ".local") == 0;
}
}  // namespace

RemoteCandidates::RemoteCandidates(int peer_id, GstElement* webrtc)
    : peer_id_(peer_id), webrtc_(GRef<GstElement>::ref(webrtc)) {}

void RemoteCandidates::close() {
  closed_ = true;
  tcp_timer_.cancel();
  held_tcp_.clear();
  lifetime_ = make_lifetime();  // lookups in flight find their guard gone
}

void RemoteCandidates::add(const signaling::IceCandidate& c, const signaling::Sdp* remote) {
  if (closed_ || c.candidate.empty()) return;  // end-of-candidates: libnice needs no marker
  std::string line = sanitize_candidate(c.candidate);
  if (line.empty()) {
    log()->debug("peer{}: ignoring candidate '{}'", peer_id_, c.candidate);
    return;
  }
  if (!seen_.insert(line).second) return;  // Chromium's per-mid duplicates
  int mline = 0;
  if (c.sdp_mline_index)
    mline = *c.sdp_mline_index;
  else if (c.sdp_mid && remote)
    mline = remote->mline_for_mid(*c.sdp_mid).value_or(0);
  std::string address = candidate_address(line);
  if (is_mdns_name(address)) {
    resolve_mdns(std::move(line), std::move(address), mline);
    return;
  }
  log()->debug("peer{}: remote candidate {} (m-line {})", peer_id_, line, mline);
  apply(mline, line);
}

void RemoteCandidates::apply(int mline, const std::string& line) {
  if (!tcp_timer_.active() && !tcp_released_)
    tcp_timer_.start_once(std::chrono::milliseconds(kTcpHoldMs), [this] { release_tcp(); });
  if (!tcp_released_ && is_tcp_candidate(line)) {
    held_tcp_.emplace_back(mline, line);
    return;
  }
  g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", static_cast<guint>(mline), line.c_str());
}

void RemoteCandidates::release_tcp() {
  tcp_released_ = true;
  if (!held_tcp_.empty())
    log()->debug("peer{}: {} TCP candidate(s) after {} ms (UDP first)", peer_id_, held_tcp_.size(), kTcpHoldMs);
  for (const auto& [mline, line] : std::exchange(held_tcp_, {}))
    g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", static_cast<guint>(mline), line.c_str());
}

// Browsers hide host addresses behind "<uuid>.local" names (mDNS). libnice
// cannot resolve them; the system resolver can where nss-mdns (Avahi) is
// installed. Without one the candidate is dropped: the call can still come
// up through the peer-reflexive candidate that the browser's own checks
// create when it reaches one of our candidates.
void RemoteCandidates::resolve_mdns(std::string line, std::string name, int mline) {
  struct Lookup {
    std::weak_ptr<int> guard;
    RemoteCandidates* self;
    std::string line, name;
    int mline;
  };
  log()->debug("peer{}: resolving mDNS candidate {}", peer_id_, name);
  auto lookup = std::make_unique<Lookup>(Lookup{lifetime_, this, std::move(line), std::move(name), mline});
  GRef<GResolver> resolver = GRef<GResolver>::adopt(g_resolver_get_default());
  const std::string host = lookup->name;
  g_resolver_lookup_by_name_async(
      resolver.get(), host.c_str(), nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        std::unique_ptr<Lookup> l(static_cast<Lookup*>(data));
        GError* err = nullptr;
        std::unique_ptr<GList, void (*)(GList*)> addrs(
            g_resolver_lookup_by_name_finish(G_RESOLVER(src), res, &err), g_resolver_free_addresses);
        GErrorPtr error(err);
        auto alive = l->guard.lock();
        if (!alive) return;
        std::string ip;
        for (GList* a = addrs.get(); a; a = a->next) {
          GInetAddress* ia = G_INET_ADDRESS(a->data);
          GCharPtr text(g_inet_address_to_string(ia));
          if (ip.empty() || g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV4) ip = text.get();
          if (g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV4) break;
        }
        if (ip.empty()) {
          log()->info("peer{}: cannot resolve the mDNS candidate {} ({}); relying on peer-reflexive "
                      "candidates (install libnss-mdns to resolve them)",
                      l->self->peer_id_, l->name, error ? error->message : "no address");
          return;
        }
        std::string resolved = l->line;
        resolved.replace(resolved.find(l->name), l->name.size(), ip);
        log()->info("peer{}: mDNS candidate {} is {}", l->self->peer_id_, l->name, ip);
        l->self->apply(l->mline, resolved);
      },
      lookup.release());
}

}  // namespace callagent::media
