#include "server/builtin_pages.h"

#include "common/gref.h"
#include "web_assets.h"

#include <glib.h>

namespace callagent::server {

namespace {

std::string escape(std::string_view s) {
  GCharPtr e(g_markup_escape_text(s.data(), static_cast<gssize>(s.size())));
  return e.get();
}

// Replaces every `{{ROOM_ID}}` in the call page with the escaped id (the
// page's script reads the id from its own URL; this is for the title).
std::string fill_room(std::string_view page, std::string_view room_id) {
  constexpr std::string_view kMark = "{{ROOM_ID}}";
  const std::string id = escape(room_id);
  std::string out;
  out.reserve(page.size() + 4 * id.size());
  size_t pos = 0;
  for (size_t hit; (hit = page.find(kMark, pos)) != std::string_view::npos; pos = hit + kMark.size()) {
    out.append(page.substr(pos, hit - pos));
    out.append(id);
  }
  out.append(page.substr(pos));
  return out;
}

}  // namespace

std::string BuiltinPages::home() const { return std::string(web::kHomeHtml); }

std::string BuiltinPages::room(std::string_view room_id) const { return fill_room(web::kRoomHtml, room_id); }

std::string BuiltinPages::login() const { return std::string(web::kLoginHtml); }

}  // namespace callagent::server
