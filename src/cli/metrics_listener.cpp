#include "cli/metrics_listener.h"

#include "common/logging.h"
#include "common/prometheus_text.h"

#include <gio/gio.h>

#include <charconv>
#include <cstring>

namespace callagent::cli {

namespace {
auto metrics_log() {
  static auto l = logging::get("metrics");
  return l;
}

void respond(SoupServerMessage* msg, guint status, const char* type, const std::string& body) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Connection", "close");
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}
}  // namespace

Result<MetricsListener::Address> MetricsListener::parse_address(const std::string& value) {
  auto bad = [&](const std::string& why) {
    return Error{ExitCode::Usage, "--metrics '" + value + "': " + why +
                                      " (give PORT, HOST:PORT or [IPv6]:PORT, HOST an IP address or localhost)"};
  };
  std::string host = "127.0.0.1", port;
  if (const auto colon = value.rfind(':'); colon == std::string::npos) {
    port = value;
  } else {
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";
    if (host == "localhost") host = "127.0.0.1";
  }
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return bad("the port is not a number from 0 to 65535");
  GRef<GInetAddress> ip = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(host.c_str()));
  if (!ip) return bad("'" + host + "' is not an IP address");
  return Address{host, p, g_inet_address_get_is_loopback(ip.get()) != FALSE};
}

Result<std::unique_ptr<MetricsListener>> MetricsListener::start(const std::string& address, Render render) {
  auto addr = parse_address(address);
  if (!addr) return addr.error();
  if (!addr->loopback)
    metrics_log()->warn("metrics on {} (not loopback): anyone who can reach it sees the call's state; firewall it",
                address);
  std::unique_ptr<MetricsListener> l(new MetricsListener(std::move(render)));
  l->soup_ = GRef<SoupServer>::adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, nullptr)));
  soup_server_add_handler(l->soup_.get(), nullptr, &MetricsListener::on_request, l.get(), nullptr);
  GRef<GSocketAddress> sa = GRef<GSocketAddress>::adopt(
      g_inet_socket_address_new_from_string(addr->host.c_str(), addr->port));
  GError* raw = nullptr;
  if (!sa || !soup_server_listen(l->soup_.get(), sa.get(), SoupServerListenOptions(0), &raw)) {
    GErrorPtr err(raw);
    return Error{ExitCode::Unavailable,
                 "cannot listen for --metrics on " + address + ": " + (err ? err->message : "bad address")};
  }
  GSList* uris = soup_server_get_uris(l->soup_.get());
  if (uris) {
    std::string u = GCharPtr(g_uri_to_string(static_cast<GUri*>(uris->data))).get();
    while (!u.empty() && u.back() == '/') u.pop_back();
    l->url_ = u + "/metrics";
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  metrics_log()->info("metrics on {}", l->url_);
  return l;
}

MetricsListener::~MetricsListener() {
  if (soup_) {
    soup_server_disconnect(soup_.get());
    soup_server_remove_handler(soup_.get(), nullptr);
  }
}

void MetricsListener::on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self) {
  auto* l = static_cast<MetricsListener*>(self);
  const char* method = soup_server_message_get_method(msg);
  if (!path || std::strcmp(path, "/metrics") != 0) {
    respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "not found: the metrics are at /metrics\n");
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
    respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
    return;
  }
  ++l->scrapes_;
  respond(msg, SOUP_STATUS_OK, PrometheusText::kContentType, l->render_());
}

}  // namespace callagent::cli
