#pragma once
// The messenger's pages compiled into the binary: the login form, the home
// page ("Create meeting") and the call page. Their sources are plain
// HTML/CSS/JS under web/ at the top of the repository; web/embed.py inlines
// each page's stylesheet and script at build time into web_assets.h, so each
// page is one self-contained response and the server needs no asset routes.

#include "server/web_pages.h"

namespace callagent::server {

class BuiltinPages final : public WebPages {
 public:
  std::string home() const override;
  std::string room(std::string_view room_id) const override;
  std::string login() const override;
};

}  // namespace callagent::server
