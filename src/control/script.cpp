#include "control/script.h"

#include <glib.h>

#include <cmath>
#include <sstream>

namespace callagent::control {

Result<std::chrono::milliseconds> parse_step_time(std::string_view text) {
  std::string t(text);
  double scale = 1000;
  auto ends = [&](std::string_view suffix) {
    return t.size() > suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("ms")) {
    scale = 1;
    t.resize(t.size() - 2);
  } else if (ends("s")) {
    t.resize(t.size() - 1);
  } else if (ends("m")) {
    scale = 60000;
    t.resize(t.size() - 1);
  }
  char* end = nullptr;
  const double v = g_ascii_strtod(t.c_str(), &end);
  if (t.empty() || !end || *end != '\0' || !std::isfinite(v) || v < 0 || v * scale > 1e12)
    return Error{ExitCode::Usage, "\"" + std::string(text) + "\" is no time (e.g. 5s, 1.5s, 500ms, 2m)"};
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(v * scale)));
}

Result<std::vector<ScriptStep>> parse_script(std::string_view text, std::string_view name) {
  std::vector<ScriptStep> steps;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::istringstream in{std::string(line)};
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) continue;
    auto fail = [&](const std::string& why) {
      return Error{ExitCode::Usage, std::string(name) + ":" + std::to_string(line_no) + ": " + why};
    };
    auto at = parse_step_time(words.front());
    if (!at) return fail(at.error().message);
    words.erase(words.begin());
    if (words.empty()) return fail("a command must follow the time");
    auto req = request_from_words(words);
    if (!req) return fail(req.error().message);
    auto cmd = to_command(*req);
    if (!cmd) return fail(cmd.error().message);
    if (cmd->kind == Command::Kind::Subscribe || cmd->kind == Command::Kind::Unsubscribe)
      return fail("subscribe is for socket clients (use --events for a log of events)");
    std::string written(line);
    while (!written.empty() && (written.back() == ' ' || written.back() == '\t' || written.back() == '\r'))
      written.pop_back();
    steps.push_back(ScriptStep{*at, line_no, written, std::move(*cmd)});
  }
  return steps;
}

Result<std::vector<ScriptStep>> load_script(const std::string& path) {
  gchar* raw = nullptr;
  gsize len = 0;
  GError* err = nullptr;
  if (!g_file_get_contents(path.c_str(), &raw, &len, &err)) {
    std::string why = err ? err->message : "unreadable";
    g_clear_error(&err);
    return Error{ExitCode::NoInput, "--script " + path + ": " + why};
  }
  std::string text(raw, len);
  g_free(raw);
  return parse_script(text, path);
}

}  // namespace callagent::control
