#include "server/server_metrics.h"

#include "common/prometheus_text.h"
#include "server/server.h"

#include <callagent_config.h>

namespace callagent::server {

std::string server_metrics_text(const Server& s) {
  using Type = PrometheusText::Type;
  PrometheusText p;
  const ServerCounters& c = s.counters();
  p.family("callagent_build_info", Type::Gauge, "Always 1; the version of callagent in a label");
  p.sample(1, {{"version", CALLAGENT_VERSION}, {"command", "serve"}});
  p.gauge("callagent_server_rooms", "Rooms in the database", static_cast<double>(s.room_count()));
  p.gauge("callagent_server_active_rooms", "Rooms with at least one connection",
          static_cast<double>(s.hub().active_rooms()));
  p.gauge("callagent_server_connections", "WebSocket connections open (in a room or being refused)",
          static_cast<double>(s.connection_count()));
  p.family("callagent_server_websockets_total", Type::Counter,
           "WebSocket upgrades: accepted into a room, or refused (room missing, unknown or full)");
  p.sample(static_cast<double>(c.websockets_accepted), {{"result", "accepted"}});
  p.sample(static_cast<double>(c.websockets_refused), {{"result", "refused"}});
  p.counter("callagent_server_relayed_frames_total", "Signaling frames relayed to the other member of a room",
            static_cast<double>(s.hub().frames_relayed()));
  p.counter("callagent_server_logins_total", "Logins that opened a session", static_cast<double>(c.logins));
  p.family("callagent_server_rejected_logins_total", Type::Counter,
           "Logins refused: wrong credentials, or too many failures from the address");
  p.sample(static_cast<double>(c.logins_rejected), {{"reason", "invalid_credentials"}});
  p.sample(static_cast<double>(c.logins_rate_limited), {{"reason", "rate_limited"}});
  p.family("callagent_server_http_requests_total", Type::Counter, "HTTP requests answered, by status code");
  for (const auto& [status, n] : c.http_responses) p.sample(static_cast<double>(n), {{"code", std::to_string(status)}});
  return p.text();
}

}  // namespace callagent::server
