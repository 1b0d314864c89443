#include "signaling/error_mapping.h"

#include "common/gref.h"

#include <libsoup/soup.h>

namespace callagent::signaling {

namespace {

// "host:port" of a URL for messages (the URL itself when it does not parse).
std::string authority(std::string_view url) {
  std::string s(url);
  GUnique<GUri> uri(g_uri_parse(s.c_str(), G_URI_FLAGS_NONE, nullptr));
  if (!uri || !g_uri_get_host(uri.get())) return s;
  std::string host = g_uri_get_host(uri.get());
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  int port = g_uri_get_port(uri.get());
  if (port < 0) {
    const char* scheme = g_uri_get_scheme(uri.get());
    port = (scheme && g_ascii_strcasecmp(scheme, "https") == 0) ? 443 : 80;
  }
  return host + ":" + std::to_string(port);
}

bool is_https(std::string_view url) {
  return url.size() >= 8 && g_ascii_strncasecmp(std::string(url.substr(0, 8)).c_str(), "https://", 8) == 0;
}

}  // namespace

std::string describe_tls_errors(GTlsCertificateFlags flags) {
  struct Name {
    GTlsCertificateFlags flag;
    const char* text;
  };
  static const Name names[] = {
      {G_TLS_CERTIFICATE_UNKNOWN_CA, "issued by an unknown CA (self-signed?)"},
      {G_TLS_CERTIFICATE_BAD_IDENTITY, "not valid for this host name"},
      {G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet"},
      {G_TLS_CERTIFICATE_EXPIRED, "expired"},
      {G_TLS_CERTIFICATE_REVOKED, "revoked"},
      {G_TLS_CERTIFICATE_INSECURE, "uses an insecure algorithm"},
      {G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid"},
  };
  std::string out;
  for (const auto& n : names) {
    if (flags & n.flag) {
      if (!out.empty()) out += ", ";
      out += n.text;
    }
  }
  return out;
}

Error transport_error(const GError* error, std::string_view url, GTlsCertificateFlags tls_errors) {
  const std::string where = authority(url);
  const std::string detail = error && error->message ? error->message : "unknown error";
  if (!error) return Error{ExitCode::Software, "request to " + where + " failed without an error"};

  if (error->domain == G_TLS_ERROR) {
    if (error->code == G_TLS_ERROR_BAD_CERTIFICATE || tls_errors != 0) {
      std::string why = describe_tls_errors(tls_errors);
      return Error{ExitCode::Tls, "the TLS certificate of " + where + " was rejected" +
                                      (why.empty() ? std::string() : " (" + why + ")") +
                                      ": give the CA certificate that signed it with --ca-file FILE, "
                                      "or skip verification with --insecure (unsafe)"};
    }
    return Error{ExitCode::Tls, "TLS handshake with " + where + " failed (" + detail +
                                    "): check that the server speaks https on this port, or use "
                                    "http:// if it does not"};
  }
  if (error->domain == G_RESOLVER_ERROR ||
      (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_HOST_NOT_FOUND)) {
    return Error{ExitCode::NoHost, "cannot resolve the server's host name in " + where + " (" + detail +
                                       "): check the server URL and DNS"};
  }
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
      case G_IO_ERROR_CONNECTION_REFUSED:
        return Error{ExitCode::Unavailable, "connection to " + where +
                                                " refused: is the server running and is the port right?"};
      case G_IO_ERROR_HOST_UNREACHABLE:
      case G_IO_ERROR_NETWORK_UNREACHABLE:
        return Error{ExitCode::Unavailable,
                     where + " is unreachable (" + detail + "): check the network and the server address"};
      case G_IO_ERROR_TIMED_OUT:
        return Error{ExitCode::Unavailable, "no answer from " + where +
                                                " in time: check the network, a firewall, or the server"};
      case G_IO_ERROR_CONNECTION_CLOSED:  // == G_IO_ERROR_BROKEN_PIPE
      case G_IO_ERROR_NOT_CONNECTED:
        return Error{ExitCode::Unavailable,
                     "the connection to " + where + " was closed (" + detail + ")" +
                         (is_https(url) ? std::string()
                                        : std::string("; if the server uses TLS, use https://"))};
      default:
        return Error{ExitCode::Unavailable, "cannot reach " + where + " (" + detail + ")"};
    }
  }
  if (error->domain == SOUP_SESSION_ERROR) {
    return Error{ExitCode::Protocol,
                 where + " did not answer with valid HTTP (" + detail + "): is it a messenger server?" +
                     (is_https(url) ? std::string()
                                    : std::string(" If it uses TLS, use https://"))};
  }
  if (error->domain == SOUP_WEBSOCKET_ERROR) {
    return Error{ExitCode::Protocol, "WebSocket handshake with " + where + " failed (" + detail +
                                         "): is it a messenger server (is /ws proxied as WebSocket)?"};
  }
  return Error{ExitCode::Unavailable, "request to " + where + " failed (" + detail + ")"};
}

Error http_status_error(unsigned status, std::string_view reason, std::string_view what,
                        std::string_view url) {
  const std::string where = authority(url);
  const std::string st = std::to_string(status) + (reason.empty() ? "" : " " + std::string(reason));
  if (status == 401 || status == 403) {
    return Error{ExitCode::NoPerm, std::string(what) + " was refused by " + where + " (HTTP " + st +
                                       "): check --user and the password (--password-file or "
                                       "CALLAGENT_PASSWORD)"};
  }
  if (status == 429) {
    return Error{ExitCode::Unavailable, std::string(what) + ": " + where +
                                            " says too many requests (HTTP 429); wait a while and retry"};
  }
  if (status >= 500) {
    return Error{ExitCode::Unavailable,
                 std::string(what) + " failed: " + where + " answered HTTP " + st + "; retry later"};
  }
  return Error{ExitCode::Protocol, std::string(what) + " failed: " + where + " answered HTTP " + st +
                                       " (is it a messenger server, and the base URL right?)"};
}

Error server_error(const ServerErrorMsg& msg, std::string_view room) {
  const std::string r(room);
  switch (msg.kind) {
    case ServerErrorKind::RoomMissing:
      return Error{ExitCode::Protocol,
                   "the server says the room id is missing from the request (\"" + msg.message +
                       "\"): this is a bug in callagent or a proxy dropping the query string"};
    case ServerErrorKind::RoomNotFound:
      return Error{ExitCode::RoomNotFound, "room '" + r +
                                               "' does not exist on this server: check the id, or "
                                               "make one with `callagent create`"};
    case ServerErrorKind::RoomFull:
      return Error{ExitCode::RoomFull,
                   "room '" + r + "' is full (it already holds two participants): try again later"};
    case ServerErrorKind::Other:
      break;
  }
  return Error{ExitCode::Protocol, "the server refused room '" + r + "': \"" + msg.message + "\""};
}

bool retryable_on_reconnect(ExitCode code) {
  switch (code) {
    case ExitCode::Unavailable:
    case ExitCode::NoHost:
    case ExitCode::RoomFull:  // usually our own stale connection, until the server drops it
    case ExitCode::Protocol:  // e.g. a proxy answering while the server restarts
    case ExitCode::IoErr:
      return true;
    default:
      return false;
  }
}

}  // namespace callagent::signaling
