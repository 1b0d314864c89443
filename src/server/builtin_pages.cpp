#include "server/builtin_pages.h"

#include "common/gref.h"

#include <glib.h>

namespace callagent::server {

namespace {

std::string escape(std::string_view s) {
  GCharPtr e(g_markup_escape_text(s.data(), static_cast<gssize>(s.size())));
  return e.get();
}

std::string page(std::string_view title, std::string_view body) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  out += title;
  out +=
      "</title>\n<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}"
      "input,button{font-size:1em;margin:.2em 0}</style>\n</head>\n<body>\n";
  out += body;
  out += "\n</body>\n</html>\n";
  return out;
}

}  // namespace

std::string BuiltinPages::home() const {
  return page("callagent", R"(<h1>callagent</h1>
<p><button id="create">New room</button> <a href="/logout">Log out</a></p>
<p id="result"></p>
<script>
document.getElementById('create').onclick = async () => {
  const r = await fetch('/create', {credentials: 'same-origin'});
  const text = await r.text();
  if (!r.ok) { document.getElementById('result').textContent = 'Error: ' + text; return; }
  window.location.href = new URL(text.trim()).pathname;
};
</script>)");
}

std::string BuiltinPages::room(std::string_view room_id) const {
  std::string id = escape(room_id);
  return page("Room " + id, "<h1>Room <code>" + id +
                                "</code></h1>\n<p>The call page is not built in yet. Join this "
                                "room with <code>callagent join</code> and this page's URL.</p>\n"
                                "<p><a href=\"/\">Home</a></p>");
}

std::string BuiltinPages::login() const {
  return page("Log in", R"(<h1>Log in</h1>
<form id="login">
<p><label>User <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
<p id="error"></p>
</form>
<script>
document.getElementById('login').onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target;
  const r = await fetch('/login', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: f.username.value, password: f.password.value})});
  if (r.ok) { window.location.href = '/'; return; }
  const text = await r.text();
  let msg = text || 'Login failed';
  try { msg = JSON.parse(text).message || msg; } catch (_) {}
  document.getElementById('error').textContent = msg;
};
</script>)");
}

}  // namespace callagent::server
