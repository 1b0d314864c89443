#pragma once
// The server's listening socket: the --listen address parsed (resolved once
// at start-up), and a socket whose listen queue is as long as the kernel
// allows. soup_server_listen() would listen with GSocket's default queue of
// 10 completed connections; when it is full the kernel drops the client's
// handshake, and the client retries only after 1 s, 3 s, 7 s... so a burst
// of connections (every room terminal after a network outage) the server
// could take in a fraction of a second turns into handshakes that take
// seconds or time out. Go's net package listens the same way.

#include "common/gref.h"
#include "common/result.h"

#include <gio/gio.h>

#include <string>

namespace callagent::server {

// HOST:PORT -> a socket address. IP literals and "localhost" directly, other
// names through the resolver (blocking). Usage / NoHost errors name the value.
Result<GRef<GSocketAddress>> parse_listen(const std::string& listen);

// The kernel's cap on a listen queue (net.core.somaxconn, per network
// namespace); listen() silently shortens longer queues to it.
int somaxconn();

// A bound, listening TCP socket on `addr` with a queue of `backlog`
// (IPv6 sockets are IPv6 only).
Result<GRef<GSocket>> listening_socket(GSocketAddress* addr, int backlog);

}  // namespace callagent::server
