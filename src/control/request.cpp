#include "control/request.h"

#include "common/gref.h"

namespace callagent::control {

namespace {

void merge(JsonObject* into, JsonObject* from) {
  if (!from) return;
  GList* members = json_object_get_members(from);
  for (GList* m = members; m; m = m->next) {
    const char* name = static_cast<const char*>(m->data);
    json_object_set_member(into, name, json_node_copy(json_object_get_member(from, name)));
  }
  g_list_free(members);
}

JsonNode* id_copy(const JsonNode* id) {
  return id ? json_node_copy(const_cast<JsonNode*>(id)) : json_node_new(JSON_NODE_NULL);
}

}  // namespace

std::string to_json(JsonNode* node) {
  GRef<JsonGenerator> gen = GRef<JsonGenerator>::adopt(json_generator_new());
  json_generator_set_root(gen.get(), node);
  GUnique<gchar> text(json_generator_to_data(gen.get(), nullptr));
  return text ? std::string(text.get()) : std::string("null");
}

JsonNodePtr object_node(JsonObject* o) {
  JsonNodePtr n(json_node_new(JSON_NODE_OBJECT));
  json_node_set_object(n.get(), o);
  return n;
}

Request make_request(std::string command) {
  Request r;
  r.command = std::move(command);
  r.args.reset(json_object_new());
  return r;
}

Request parse_request(std::string_view line) {
  Request r = make_request("");
  if (line.size() > kMaxLineBytes) {
    r.error = "line too long (over 64 KiB)";
    return r;
  }
  GRef<JsonParser> parser = GRef<JsonParser>::adopt(json_parser_new());
  GError* raw = nullptr;
  if (!json_parser_load_from_data(parser.get(), line.data(), static_cast<gssize>(line.size()), &raw)) {
    GUnique<GError> err(raw);
    r.error = std::string("not JSON: ") + (err ? err->message : "parse error");
    return r;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    r.error = "a request is a JSON object";
    return r;
  }
  JsonObject* o = json_node_get_object(root);
  if (JsonNode* id = json_object_get_member(o, "id")) r.id.reset(json_node_copy(id));
  JsonNode* cmd = json_object_get_member(o, "command");
  if (!cmd || !JSON_NODE_HOLDS_VALUE(cmd) || json_node_get_value_type(cmd) != G_TYPE_STRING) {
    r.error = "\"command\" (a string) is missing";
    return r;
  }
  r.command = json_node_get_string(cmd);
  if (JsonNode* args = json_object_get_member(o, "args"); args && !JSON_NODE_HOLDS_NULL(args)) {
    if (!JSON_NODE_HOLDS_OBJECT(args)) {
      r.error = "\"args\" must be an object";
      return r;
    }
    r.args.reset(json_object_ref(json_node_get_object(args)));
  }
  return r;
}

std::string request_line(const Request& r) {
  GUnique<JsonObject> o(json_object_new());
  json_object_set_string_member(o.get(), "command", r.command.c_str());
  if (r.args && json_object_get_size(r.args.get()) > 0)
    json_object_set_object_member(o.get(), "args", json_object_ref(r.args.get()));
  if (r.id) json_object_set_member(o.get(), "id", json_node_copy(r.id.get()));
  auto node = object_node(o.get());
  return to_json(node.get());
}

std::string ok_line(const JsonNode* id, JsonObject* fields) {
  GUnique<JsonObject> o(json_object_new());
  json_object_set_member(o.get(), "id", id_copy(id));
  json_object_set_boolean_member(o.get(), "ok", TRUE);
  merge(o.get(), fields);
  auto node = object_node(o.get());
  return to_json(node.get());
}

std::string error_line(const JsonNode* id, std::string_view message) {
  GUnique<JsonObject> o(json_object_new());
  json_object_set_member(o.get(), "id", id_copy(id));
  json_object_set_boolean_member(o.get(), "ok", FALSE);
  json_object_set_string_member(o.get(), "error", std::string(message).c_str());
  auto node = object_node(o.get());
  return to_json(node.get());
}

std::string event_line(std::string_view name, double t, JsonObject* fields) {
  GUnique<JsonObject> o(json_object_new());
  json_object_set_string_member(o.get(), "event", std::string(name).c_str());
  json_object_set_double_member(o.get(), "t", static_cast<double>(static_cast<int64_t>(t * 1000)) / 1000.0);
  merge(o.get(), fields);
  auto node = object_node(o.get());
  return to_json(node.get());
}

}  // namespace callagent::control
