#pragma once
// GUnique deleters for json-glib's boxed types (JsonNode, JsonObject,
// JsonArray), which are reference-counted but not GObjects. JsonParser,
// JsonBuilder and JsonGenerator are GObjects: hold them in a GRef.
// Header-only, for the libraries that use json-glib (common itself does not).

#include "common/gref.h"

#include <json-glib/json-glib.h>

namespace callagent {

CALLAGENT_DEFINE_GDELETER(JsonNode, json_node_unref);
CALLAGENT_DEFINE_GDELETER(JsonObject, json_object_unref);
CALLAGENT_DEFINE_GDELETER(JsonArray, json_array_unref);

using JsonNodePtr = GUnique<JsonNode>;

}  // namespace callagent
