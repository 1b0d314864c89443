// A recording process to be killed: a loopback call (two engines, test
// sources, ICE on 127.0.0.1) whose receiving side records to argv[1].
// Prints "RECORDING" when the first remote frames were decoded, then runs
// until killed. Used by record_crash_check.sh to measure what survives
// SIGKILL.

#include "common/logging.h"
#include "common/main_context.h"
#include "media/media_engine.h"

#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>

using namespace callagent;
using namespace callagent::media;

namespace {
struct Side : PeerConnection::Listener {
  GMainContext* ctx = nullptr;
  Lifetime lifetime = make_lifetime();
  PeerConnection* other = nullptr;
  bool got_video = false, got_audio = false, announced = false;
  void on_local_description(const signaling::SessionDescription& d) override {
    post(ctx, lifetime, [this, d] { other->set_remote_description(d); });
  }
  void on_local_candidate(const signaling::IceCandidate& c) override {
    post(ctx, lifetime, [this, c] { other->add_remote_candidate(c); });
  }
  void on_connection_state(ConnectionState) override {}
  void on_remote_media(MediaKind k) override {
    (k == MediaKind::Video ? got_video : got_audio) = true;
    if (got_video && got_audio && !announced) {
      announced = true;
      std::printf("RECORDING\n");
      std::fflush(stdout);
    }
  }
  void on_error(const Error& e) override { std::fprintf(stderr, "error: %s\n", e.message.c_str()); }
};
struct EL : MediaEngine::Listener {
  void on_engine_error(const Error& e) override {
    std::fprintf(stderr, "engine error: %s\n", e.message.c_str());
    std::exit(1);
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.mkv [480p|720p]\n", argv[0]);
    return 64;
  }
  gst_init(&argc, &argv);
  logging::setup(-1, logging::Format::Text);
  MediaOptions o;
  o.video = *parse_video_preset(argc > 2 ? argv[2] : "480p", 30);
  o.ice.local_addresses = {"127.0.0.1"};
  MediaOptions orec = o;
  orec.output.record_path = argv[1];
  EL el;
  auto a = MediaEngine::create(orec, &el);
  auto b = MediaEngine::create(o, &el);
  if (!a || !b) {
    std::fprintf(stderr, "cannot create engines\n");
    return 1;
  }
  Side sa, sb;
  sa.ctx = sb.ctx = g_main_context_default();
  PeerConnection* pa = (*a)->add_peer(&sa);
  PeerConnection* pb = (*b)->add_peer(&sb);
  sa.other = pb;
  sb.other = pa;
  pb->create_offer();
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  g_main_loop_run(loop);
  return 0;
}
