// Failures -> exit codes and messages (src/signaling/error_mapping.h).
#include "signaling/error_mapping.h"

#include "common/gref.h"

#include <catch2/catch.hpp>

#include "test_helpers.h"
#include <libsoup/soup.h>

using namespace callagent;
using namespace callagent::signaling;

namespace {
GErrorPtr make(GQuark domain, int code, const char* msg = "boom") {
  return GErrorPtr(g_error_new_literal(domain, code, msg));
}
using callagent::test::contains;
const char* kUrl = "http://127.0.0.1:8080/login";
}  // namespace

TEST_CASE("error frames map to their exit codes") {
  CHECK(server_error({ServerErrorKind::RoomMissing, "room ID missing"}, "r").code == ExitCode::Protocol);
  CHECK(server_error({ServerErrorKind::RoomNotFound, "room not found"}, "r").code == ExitCode::RoomNotFound);
  CHECK(server_error({ServerErrorKind::RoomFull, "room full"}, "r").code == ExitCode::RoomFull);
  auto other = server_error({ServerErrorKind::Other, "go away"}, "r1");
  CHECK(other.code == ExitCode::Protocol);
  CHECK(contains(other.message, "go away"));
  CHECK(contains(server_error({ServerErrorKind::RoomNotFound, "room not found"}, "abc").message, "'abc'"));
}

TEST_CASE("error frames decoded by the protocol codec map end to end") {
  auto code_of = [](const char* frame) {
    auto d = decode_server_frame(frame);
    REQUIRE(std::holds_alternative<ServerMessage>(d));
    auto& m = std::get<ServerMessage>(d);
    REQUIRE(std::holds_alternative<ServerErrorMsg>(m));
    return server_error(std::get<ServerErrorMsg>(m), "r").code;
  };
  CHECK(code_of(R"({"error":"room ID missing"})") == ExitCode::Protocol);
  CHECK(code_of(R"({"error":"room not found"})") == ExitCode::RoomNotFound);
  CHECK(code_of(R"({"error":"room full"})") == ExitCode::RoomFull);
}

TEST_CASE("TLS failures are Tls and say what to do") {
  auto bad = transport_error(make(G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE).get(), "https://h:8443/login",
                             G_TLS_CERTIFICATE_UNKNOWN_CA);
  CHECK(bad.code == ExitCode::Tls);
  CHECK(contains(bad.message, "--ca-file"));
  CHECK(contains(bad.message, "--insecure"));
  CHECK(contains(bad.message, "unknown CA"));
  CHECK(contains(bad.message, "h:8443"));
  auto hs = transport_error(make(G_TLS_ERROR, G_TLS_ERROR_NOT_TLS).get(), "https://h/login");
  CHECK(hs.code == ExitCode::Tls);
  CHECK(contains(hs.message, "handshake"));
}

TEST_CASE("DNS failures are NoHost") {
  CHECK(transport_error(make(G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND).get(), kUrl).code == ExitCode::NoHost);
  CHECK(transport_error(make(G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE).get(), kUrl).code ==
        ExitCode::NoHost);
  CHECK(transport_error(make(G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND).get(), kUrl).code == ExitCode::NoHost);
}

TEST_CASE("refused, unreachable, timed out, closed are Unavailable") {
  auto refused = transport_error(make(G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED).get(), kUrl);
  CHECK(refused.code == ExitCode::Unavailable);
  CHECK(contains(refused.message, "127.0.0.1:8080"));
  CHECK(contains(refused.message, "refused"));
  for (int code : {G_IO_ERROR_HOST_UNREACHABLE, G_IO_ERROR_NETWORK_UNREACHABLE, G_IO_ERROR_TIMED_OUT,
                   G_IO_ERROR_CONNECTION_CLOSED, G_IO_ERROR_FAILED}) {
    INFO("code " << code);
    CHECK(transport_error(make(G_IO_ERROR, code).get(), kUrl).code == ExitCode::Unavailable);
  }
  CHECK(contains(transport_error(make(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED).get(), kUrl).message, "https://"));
}

TEST_CASE("garbage instead of HTTP is a Protocol error") {
  auto e = transport_error(make(SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_PARSING).get(), kUrl);
  CHECK(e.code == ExitCode::Protocol);
}

TEST_CASE("HTTP statuses") {
  CHECK(http_status_error(401, "Unauthorized", "creating a room", kUrl).code == ExitCode::NoPerm);
  CHECK(http_status_error(403, "", "x", kUrl).code == ExitCode::NoPerm);
  CHECK(http_status_error(429, "", "x", kUrl).code == ExitCode::Unavailable);
  CHECK(http_status_error(502, "Bad Gateway", "x", kUrl).code == ExitCode::Unavailable);
  CHECK(http_status_error(404, "Not Found", "x", kUrl).code == ExitCode::Protocol);
  CHECK(http_status_error(400, "", "x", kUrl).code == ExitCode::Protocol);
  CHECK(contains(http_status_error(401, "Unauthorized", "x", kUrl).message, "password"));
}

TEST_CASE("what is retried while reconnecting") {
  CHECK(retryable_on_reconnect(ExitCode::Unavailable));
  CHECK(retryable_on_reconnect(ExitCode::NoHost));
  CHECK(retryable_on_reconnect(ExitCode::RoomFull));
  CHECK_FALSE(retryable_on_reconnect(ExitCode::NoPerm));
  CHECK_FALSE(retryable_on_reconnect(ExitCode::RoomNotFound));
  CHECK_FALSE(retryable_on_reconnect(ExitCode::Tls));
  CHECK_FALSE(retryable_on_reconnect(ExitCode::Usage));
}

TEST_CASE("certificate problems in words") {
  CHECK(describe_tls_errors(GTlsCertificateFlags(0)).empty());
  auto s = describe_tls_errors(GTlsCertificateFlags(G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_BAD_IDENTITY));
  CHECK(contains(s, "expired"));
  CHECK(contains(s, "host name"));
}
