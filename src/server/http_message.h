#pragma once
// Small helpers for reading a libsoup server request and writing its
// response the way the reference server (Go's net/http) does: plain-text
// errors ending in a newline, 303 redirects, 405 with Allow.

#include <libsoup/soup.h>

#include <string>
#include <string_view>

namespace callagent::server {

// RFC 6585; libsoup 3.2's SoupStatus has no name for it.
constexpr guint kStatusTooManyRequests = 429;

const char* header(SoupServerMessage* msg, const char* name);  // request header or nullptr
void set_header(SoupServerMessage* msg, const char* name, const std::string& value);
void respond(SoupServerMessage* msg, guint status, const char* content_type, std::string_view body);
// Plain-text answers end with a newline, as Go's http.Error writes them.
void respond_text(SoupServerMessage* msg, guint status, std::string_view text);
void respond_html(SoupServerMessage* msg, const std::string& html);
void redirect(SoupServerMessage* msg, const char* location);  // 303 See Other
bool is_get(SoupServerMessage* msg);                           // GET or HEAD
void method_not_allowed(SoupServerMessage* msg, const char* allow);
std::string remote_of(SoupServerMessage* msg);  // the peer's address, or "unknown"
// Client-supplied text for a log line: printable ASCII only, bounded, so a
// crafted room id or Origin cannot forge log lines.
std::string printable(std::string_view s, size_t max = 64);
// A query parameter of the request URI, "" when absent.
std::string query_param(SoupServerMessage* msg, const char* name);

}  // namespace callagent::server
