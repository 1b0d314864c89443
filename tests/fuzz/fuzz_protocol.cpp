// libFuzzer target: the signaling decoders must never crash, hang or leak,
// whatever a server or client sends. Also checks two invariants:
//   - a relayed copy of any accepted client frame decodes on the client side
//     without crashing;
//   - encoded descriptions/candidates/chat round-trip exactly.
#include "signaling/protocol.h"

#include <glib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

using namespace callagent::signaling;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)decode_server_frame(text);
  (void)parse_description_json(text);
  (void)parse_candidate_json(text);
  if (auto f = decode_client_frame(text)) {
    (void)decode_server_frame(relay_frame(*f, "room", "user_00000000"));
  }
  // Round trip of arbitrary text through chat (must be valid UTF-8 for JSON).
  std::string s(text);
  if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr)) {
    auto d = decode_server_frame(encode_chat(s, "r"));
    auto* m = std::get_if<ServerMessage>(&d);
    if (!m || !std::holds_alternative<ChatMsg>(*m) || std::get<ChatMsg>(*m).text != s) abort();
  }
  return 0;
}
