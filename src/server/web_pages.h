#pragma once
// The HTML the server shows a browser: /, /room/<id> and the /login form.
// Server asks this interface for every page, so the real call page (a later
// issue) replaces BuiltinPages without touching routing or auth.

#include <string>
#include <string_view>

namespace callagent::server {

class WebPages {
 public:
  virtual ~WebPages() = default;
  virtual std::string home() const = 0;
  // `room_id` comes from the URL: implementations must escape it.
  virtual std::string room(std::string_view room_id) const = 0;
  virtual std::string login() const = 0;
};

}  // namespace callagent::server
