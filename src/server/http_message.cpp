#include "server/http_message.h"

#include "common/gref.h"

namespace callagent::server {

const char* header(SoupServerMessage* msg, const char* name) {
  return soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
}

void set_header(SoupServerMessage* msg, const char* name, const std::string& value) {
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), name, value.c_str());
}

void respond(SoupServerMessage* msg, guint status, const char* content_type, std::string_view body) {
  soup_server_message_set_status(msg, status,
                                 status == kStatusTooManyRequests ? "Too Many Requests" : nullptr);
  soup_server_message_set_response(msg, content_type, SOUP_MEMORY_COPY, body.data(), body.size());
}

void respond_text(SoupServerMessage* msg, guint status, std::string_view text) {
  respond(msg, status, "text/plain; charset=utf-8", std::string(text) + "\n");
}

void respond_html(SoupServerMessage* msg, const std::string& html) {
  respond(msg, SOUP_STATUS_OK, "text/html; charset=utf-8", html);
}

void redirect(SoupServerMessage* msg, const char* location) {
  soup_server_message_set_status(msg, SOUP_STATUS_SEE_OTHER, nullptr);
  set_header(msg, "Location", location);
}

bool is_get(SoupServerMessage* msg) {
  const char* m = soup_server_message_get_method(msg);
  return m == SOUP_METHOD_GET || m == SOUP_METHOD_HEAD;
}

void method_not_allowed(SoupServerMessage* msg, const char* allow) {
  set_header(msg, "Allow", allow);
  respond_text(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed");
}

std::string remote_of(SoupServerMessage* msg) {
  const char* r = soup_server_message_get_remote_host(msg);
  return r ? r : "unknown";
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char ch : s.substr(0, max)) out.push_back(g_ascii_isprint(ch) ? ch : '?');
  if (s.size() > max) out += "…";
  return out;
}

std::string query_param(SoupServerMessage* msg, const char* name) {
  const char* query = g_uri_get_query(soup_server_message_get_uri(msg));
  if (!query) return {};
  GUnique<GHashTable> params(g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr));
  if (!params) return {};
  const char* v = static_cast<const char*>(g_hash_table_lookup(params.get(), name));
  return v ? v : "";
}

}  // namespace callagent::server
