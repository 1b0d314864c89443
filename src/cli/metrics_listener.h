#pragma once
// MetricsListener: the `--metrics ADDR:PORT` endpoint of `join` and `serve`.
// A SoupServer of its own (so `join` needs none of the signaling server)
// answering `GET /metrics` with whatever `render` returns, in the
// Prometheus text format 0.0.4; every other path is a 404, every other
// method a 405.
//
// The address: "PORT" or ":PORT" means 127.0.0.1; "localhost:PORT",
// "IPv4:PORT" and "[IPv6]:PORT" as given (port 0 picks a free one; url()
// says which). Metrics tell who is called and when: an address that is
// not loopback must be given explicitly, and is logged as a warning.
//
// Each response closes its connection: libsoup 3.2's server does not notice
// a client closing an idle keep-alive connection (the descriptor would stay
// in CLOSE_WAIT for good), and a scrape every few seconds costs nothing to
// reconnect.
//
// Runs on the thread-default main context: `render` is called there, so it
// reads the caller's state without locks. Destroying the listener stops it.

#include "common/gref.h"
#include "common/result.h"

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>

namespace callagent::cli {

class MetricsListener {
 public:
  using Render = std::function<std::string()>;

  // Listens now. Usage for an address that does not parse, Unavailable when
  // it cannot be bound.
  static Result<std::unique_ptr<MetricsListener>> start(const std::string& address, Render render);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  // e.g. "http://127.0.0.1:9464/metrics"
  const std::string& url() const { return url_; }
  uint64_t scrapes() const { return scrapes_; }

  // HOST and PORT of an --metrics value (the rules above), or an error.
  struct Address {
    std::string host;  // an IP literal
    unsigned port = 0;
    bool loopback = true;
  };
  static Result<Address> parse_address(const std::string& value);

 private:
  explicit MetricsListener(Render render) : render_(std::move(render)) {}
  static void on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self);

  Render render_;
  GRef<SoupServer> soup_;
  std::string url_;
  uint64_t scrapes_ = 0;
};

}  // namespace callagent::cli
