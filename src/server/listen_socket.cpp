#include "server/listen_socket.h"

#include "common/logging.h"

#include <netinet/in.h>

#include <algorithm>
#include <fstream>

namespace callagent::server {

Result<GRef<GSocketAddress>> parse_listen(const std::string& listen) {
  GError* raw = nullptr;
  GSocketConnectable* parsed = g_network_address_parse(listen.c_str(), 8080, &raw);
  GErrorPtr err(raw);
  if (!parsed) return Error{ExitCode::Usage, "--listen '" + listen + "' is not HOST:PORT: " + err->message};
  auto addr = GRef<GNetworkAddress>::adopt(G_NETWORK_ADDRESS(parsed));
  std::string host = g_network_address_get_hostname(addr.get());
  guint16 port = g_network_address_get_port(addr.get());
  bool plausible = !host.empty() && std::all_of(host.begin(), host.end(), [](char ch) {
    return g_ascii_isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '%';
  });
  if (!plausible) return Error{ExitCode::Usage, "--listen '" + listen + "' is not HOST:PORT"};
  auto inet = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(host.c_str()));
  if (!inet && host == "localhost")
    inet = GRef<GInetAddress>::adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  if (!inet) {
    auto resolver = GRef<GResolver>::adopt(g_resolver_get_default());
    GList* found = g_resolver_lookup_by_name(resolver.get(), host.c_str(), nullptr, &raw);
    err.reset(raw);
    if (!found) return Error{ExitCode::NoHost, "--listen: cannot resolve '" + host + "': " + err->message};
    inet = GRef<GInetAddress>::ref(G_INET_ADDRESS(found->data));
    g_resolver_free_addresses(found);
  }
  return GRef<GSocketAddress>::adopt(g_inet_socket_address_new(inet.get(), port));
}

int somaxconn() {
  std::ifstream f("/proc/sys/net/core/somaxconn");
  int v = 0;
  if (f >> v && v > 0) return v;
  return 4096;
}

Result<GRef<GSocket>> listening_socket(GSocketAddress* addr, int backlog) {
  GError* raw = nullptr;
  GSocketFamily family = g_socket_address_get_family(addr);
  auto sock = GRef<GSocket>::adopt(
      g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &raw));
  GErrorPtr err(raw);
  if (!sock) return Error{ExitCode::Unavailable, std::string("cannot make a socket: ") + err->message};
  if (family == G_SOCKET_FAMILY_IPV6 &&
      !g_socket_set_option(sock.get(), IPPROTO_IPV6, IPV6_V6ONLY, TRUE, &raw)) {
    err.reset(raw);
    logging::get("server")->debug("IPV6_V6ONLY: {}", err->message);
  }
  g_socket_set_listen_backlog(sock.get(), backlog);
  if (!g_socket_bind(sock.get(), addr, TRUE, &raw) || !g_socket_listen(sock.get(), &raw)) {
    err.reset(raw);
    return Error{ExitCode::Unavailable, err->message};
  }
  return sock;
}

}  // namespace callagent::server
