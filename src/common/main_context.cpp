#include "common/main_context.h"

#include <glib-unix.h>

namespace callagent {

namespace {
struct Posted {
  std::weak_ptr<void> guard;
  std::function<void()> fn;
};
}  // namespace

void post(GMainContext* ctx, std::weak_ptr<void> guard, std::function<void()> fn) {
  auto* p = new Posted{std::move(guard), std::move(fn)};
  GSource* src = g_idle_source_new();
  g_source_set_priority(src, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      src,
      [](gpointer data) -> gboolean {
        auto* posted = static_cast<Posted*>(data);
        if (auto alive = posted->guard.lock()) posted->fn();
        return G_SOURCE_REMOVE;
      },
      p, [](gpointer data) { delete static_cast<Posted*>(data); });
  g_source_attach(src, ctx);
  g_source_unref(src);
}

void Timeout::start(std::chrono::milliseconds delay, std::function<bool()> fn) {
  cancel();
  state_ = std::make_shared<State>();
  state_->fn = std::move(fn);
  state_->source = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(state_->source, &Timeout::on_fire, new std::shared_ptr<State>(state_),
                        [](gpointer d) { delete static_cast<std::shared_ptr<State>*>(d); });
  g_source_attach(state_->source, g_main_context_get_thread_default());
}

void Timeout::start_once(std::chrono::milliseconds delay, std::function<void()> fn) {
  start(delay, [fn = std::move(fn)]() {
    fn();
    return false;
  });
}

gboolean Timeout::on_fire(gpointer data) {
  std::shared_ptr<State> state = *static_cast<std::shared_ptr<State>*>(data);
  GSource* fired = state->source;
  if (!fired) return G_SOURCE_REMOVE;
  auto fn = state->fn;  // fn may re-arm (replacing state) or cancel
  bool again = fn();
  if (state->source != fired) return G_SOURCE_REMOVE;  // cancelled inside fn
  if (!again) {
    state->source = nullptr;
    g_source_unref(fired);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

void Timeout::cancel() {
  if (state_ && state_->source) {
    g_source_destroy(state_->source);
    g_source_unref(state_->source);
    state_->source = nullptr;
  }
  state_.reset();
}

UnixSignalWatch::UnixSignalWatch(int signum, std::function<void()> fn) : fn_(std::move(fn)) {
  id_ = g_unix_signal_add(
      signum,
      [](gpointer data) -> gboolean {
        static_cast<UnixSignalWatch*>(data)->fn_();
        return G_SOURCE_CONTINUE;
      },
      this);
}

UnixSignalWatch::~UnixSignalWatch() {
  if (id_) g_source_remove(id_);
}

GMainContext* thread_default_context() {
  GMainContext* c = g_main_context_get_thread_default();
  return c ? c : g_main_context_default();
}

}  // namespace callagent
