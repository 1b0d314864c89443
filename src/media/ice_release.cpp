#include "media/ice_release.h"

#include "common/gref.h"
#include "common/logging.h"
#include "common/main_context.h"

#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <memory>
#include <utility>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

// Two steps joined: libnice's answer (or the timeout) and the caller's
// other closing work. Shared by the GTask callback, the timer and the
// returned step; whichever comes last runs `done`.
struct Release {
  int id = 0;
  std::function<void()> done;
  bool released = false;   // libnice answered, or the timeout passed
  bool others = false;     // the returned step ran
  Timeout timer;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  void maybe_done() {
    if (!released || !others || !done) return;
    auto d = std::exchange(done, nullptr);
    d();
  }
  void end_release(bool confirmed) {
    if (released) return;
    released = true;
    timer.cancel();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (confirmed)
      log()->info("peer{}: ICE agent closed, TURN allocations released ({} ms)", id, ms.count());
    else
      log()->warn("peer{}: ICE agent not closed within {} ms: TURN allocations stay until they expire", id,
                  ms.count());
    maybe_done();
  }
};

void on_closed(GObject* source, GAsyncResult* res, gpointer data) {
  // The box keeps the state alive until libnice answers, even after the
  // timeout ended the wait.
  std::unique_ptr<std::shared_ptr<Release>> box(static_cast<std::shared_ptr<Release>*>(data));
  GError* err = nullptr;
  // libnice 0.1.21 has no _finish(): the result is its GTask's.
  (void)source;
  gboolean ok = g_task_propagate_boolean(G_TASK(res), &err);
  GErrorPtr e(err);
  if (e) log()->warn("peer{}: closing the ICE agent: {}", (*box)->id, e->message);
  (*box)->end_release(ok == TRUE);
}

GRef<NiceAgent> nice_agent_of(GstElement* webrtc) {
  if (!webrtc) return {};
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);  // transfer full
  auto ice_ref = GRef<GstWebRTCICE>::adopt(ice);
  if (!ice_ref || !g_object_class_find_property(G_OBJECT_GET_CLASS(ice_ref.get()), "agent")) return {};
  GObject* a = nullptr;
  g_object_get(ice_ref.get(), "agent", &a, nullptr);  // transfer full
  auto agent = GRef<GObject>::adopt(a);
  if (!agent || !NICE_IS_AGENT(agent.get())) return {};
  return GRef<NiceAgent>::adopt(NICE_AGENT(agent.release()));
}
}  // namespace

std::function<void()> release_turn_allocations(int peer_id, GstElement* webrtc, std::function<void()> done,
                                               std::chrono::milliseconds timeout) {
  auto r = std::make_shared<Release>();
  r->id = peer_id;
  r->done = std::move(done);
  GRef<NiceAgent> agent = nice_agent_of(webrtc);
  if (!agent) {
    log()->debug("peer{}: no libnice agent to close", peer_id);
    r->released = true;
  } else {
    std::weak_ptr<Release> weak = r;
    r->timer.start_once(timeout, [weak] {
      if (auto s = weak.lock()) s->end_release(false);
    });
    // May answer at once (no allocations): on_closed runs from a later
    // main-context iteration or inline; both are fine for Release.
    nice_agent_close_async(agent.get(), &on_closed, new std::shared_ptr<Release>(r));
  }
  return [r] {
    r->others = true;
    r->maybe_done();
  };
}

}  // namespace callagent::media
