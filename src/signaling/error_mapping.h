#pragma once
// How failures met while talking to the server become an Error (an exit code
// and one sentence saying what went wrong and what to do).
//
// Pure functions: no I/O, so every mapping is unit-tested. The HTTP client,
// the WebSocket client and the signaling client all go through here, so the
// same failure gives the same exit code and wording wherever it happens.

#include "common/result.h"
#include "signaling/protocol.h"

#include <gio/gio.h>

#include <string>
#include <string_view>

namespace callagent::signaling {

// A transport failure (GError from libsoup/GIO) while reaching `url`:
//   G_TLS_ERROR_*            -> Tls  (with the certificate problems when known)
//   G_RESOLVER_ERROR_*       -> NoHost
//   refused / unreachable / timed out / reset / closed -> Unavailable
//   libsoup parse errors     -> Protocol (not an HTTP server, or http:// to a TLS port)
// `tls_errors` are the peer certificate's problems when libsoup knows them
// (0 otherwise).
Error transport_error(const GError* error, std::string_view url,
                      GTlsCertificateFlags tls_errors = GTlsCertificateFlags(0));

// What an HTTP status means for a request to `url` (`what` names the request
// in the message, e.g. "creating a room"):
//   401/403 -> NoPerm, 429 and 5xx -> Unavailable, anything else -> Protocol.
Error http_status_error(unsigned status, std::string_view reason, std::string_view what,
                        std::string_view url);

// An error frame from the server ({"error": "..."}) for room `room`:
//   "room ID missing" -> Protocol, "room not found" -> RoomNotFound,
//   "room full" -> RoomFull, anything else -> Protocol.
Error server_error(const ServerErrorMsg& msg, std::string_view room);

// Whether a failure met while re-establishing a connection that was already
// up is worth another attempt (server restarting, network flapping, our old
// connection still holding the room) rather than fatal (credentials
// rejected, room gone, certificate rejected).
bool retryable_on_reconnect(ExitCode code);

// Human text for certificate problems: "unknown issuer, expired".
std::string describe_tls_errors(GTlsCertificateFlags flags);

}  // namespace callagent::signaling
