#include "control/dispatcher.h"

namespace callagent::control {

void Subscription::subscribe(const std::vector<std::string>& names) {
  if (names.empty()) {
    all_ = true;
    except_.clear();
    return;
  }
  for (const auto& n : names) {
    names_.insert(n);
    except_.erase(n);
  }
}

void Subscription::unsubscribe(const std::vector<std::string>& names) {
  if (names.empty()) {
    all_ = false;
    names_.clear();
    except_.clear();
    return;
  }
  for (const auto& n : names) {
    names_.erase(n);
    if (all_) except_.insert(n);
  }
  if (all_) {
    // "all but these": keep it explicit, the set of events is known.
    all_ = false;
    for (const auto& e : event_table())
      if (!except_.count(std::string(e.name))) names_.insert(std::string(e.name));
    except_.clear();
  }
}

std::vector<std::string> Subscription::names() const {
  if (all_) return {"all"};
  return {names_.begin(), names_.end()};
}

Dispatcher::Outcome Dispatcher::dispatch(const Request& request, Subscription* sub) {
  auto cmd = to_command(request);
  if (!cmd) return {error_line(request.id.get(), cmd.error().message), false};
  return execute(*cmd, request.id.get(), sub);
}

Dispatcher::Outcome Dispatcher::execute(const Command& cmd, const JsonNode* id, Subscription* sub) {
  GUnique<JsonObject> fields(json_object_new());
  auto fail = [&](const Error& e) { return Outcome{error_line(id, e.message), false}; };
  auto muted_fields = [&] {
    json_object_set_boolean_member(fields.get(), "audio_muted", target_.audio_muted());
    json_object_set_boolean_member(fields.get(), "video_muted", target_.video_muted());
  };
  using K = Command::Kind;
  switch (cmd.kind) {
    case K::Mute:
    case K::Unmute:
      target_.set_muted(cmd.audio, cmd.video, cmd.kind == K::Mute);
      muted_fields();
      break;
    case K::Status: fields = target_.status(); break;
    case K::Stats: {
      auto s = target_.stats();
      if (!s) return fail(s.error());
      json_object_set_member(fields.get(), "stats", s->release());
      break;
    }
    case K::Hangup:
      if (auto st = target_.hangup(cmd.rejoin); !st) return fail(st.error());
      json_object_set_boolean_member(fields.get(), "rejoin", cmd.rejoin);
      break;
    case K::Quit:
      if (auto st = target_.quit(); !st) return fail(st.error());
      break;
    case K::Chat:
      if (auto st = target_.chat(cmd.text); !st) return fail(st.error());
      break;
    case K::Keyframe:
      if (auto st = target_.keyframe(); !st) return fail(st.error());
      break;
    case K::Set:
    case K::Source: {
      auto r = cmd.kind == K::Set ? target_.set_media(cmd) : target_.set_source(cmd);
      if (!r) return fail(r.error());
      fields = std::move(*r);
      break;
    }
    case K::Snapshot: {
      auto p = target_.snapshot(cmd.path);
      if (!p) return fail(p.error());
      json_object_set_string_member(fields.get(), "path", p->c_str());
      break;
    }
    case K::Subscribe:
    case K::Unsubscribe: {
      if (!sub) return fail(Error{ExitCode::Usage, "subscribe: only a socket client can subscribe"});
      if (cmd.kind == K::Subscribe)
        sub->subscribe(cmd.events);
      else
        sub->unsubscribe(cmd.events);
      JsonArray* arr = json_array_new();
      for (const auto& n : sub->names()) json_array_add_string_element(arr, n.c_str());
      json_object_set_array_member(fields.get(), "events", arr);
      break;
    }
  }
  return {ok_line(id, fields.get()), true};
}

}  // namespace callagent::control
