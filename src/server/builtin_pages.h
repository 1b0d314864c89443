#pragma once
// Minimal pages compiled into the binary: a home page that creates rooms, a
// placeholder room page, and a login form that posts JSON to /login as
// PROTOCOL.md requires.

#include "server/web_pages.h"

namespace callagent::server {

class BuiltinPages final : public WebPages {
 public:
  std::string home() const override;
  std::string room(std::string_view room_id) const override;
  std::string login() const override;
};

}  // namespace callagent::server
