// A real call in one process: two MediaEngines with test sources, ICE on
// 127.0.0.1 only, descriptions and candidates exchanged directly.

#include "media/sdp_info.h"
#include "media_test_util.h"

#include <gst/video/video.h>

using namespace callagent;
using namespace callagent::media;
using namespace callagent::media::test;
using namespace std::chrono_literals;

namespace {

struct Call {
  TestContext& tc;
  EngineListener la, lb;
  std::unique_ptr<MediaEngine> a, b;
  LoopbackSide sa, sb;
  PeerConnection* pa = nullptr;
  PeerConnection* pb = nullptr;

  Call(TestContext& t, MediaOptions oa, MediaOptions ob) : tc(t) {
    auto ea = MediaEngine::create(oa, &la);
    REQUIRE(ea.ok());
    a = std::move(*ea);
    auto eb = MediaEngine::create(ob, &lb);
    REQUIRE(eb.ok());
    b = std::move(*eb);
  }
  void connect() {
    sa.ctx = sb.ctx = tc.get();
    pa = a->add_peer(&sa);
    pb = b->add_peer(&sb);
    REQUIRE(pa);
    REQUIRE(pb);
    sa.self = pa, sa.other = pb;
    sb.self = pb, sb.other = pa;
    pa->create_offer();
  }
  bool media_both_ways(uint64_t frames) const {
    auto ca = pa->counters(), cb = pb->counters();
    return ca.video_frames >= frames && cb.video_frames >= frames && ca.audio_buffers >= frames &&
           cb.audio_buffers >= frames;
  }
};

}  // namespace

TEST_CASE("loopback call: both directions decode 480p video and audio", "[media][loopback]") {
  TestContext tc;
  Call call(tc, loopback_options(), loopback_options());
  auto t0 = std::chrono::steady_clock::now();
  call.connect();

  REQUIRE(tc.run_until([&] { return call.sa.connected() && call.sb.connected(); }, 10s));
  auto t_conn = std::chrono::steady_clock::now();
  REQUIRE(tc.run_until([&] { return call.sa.got_video && call.sb.got_video; }, 10s));
  auto t_first = std::chrono::steady_clock::now();
  REQUIRE(tc.run_until([&] { return call.media_both_ways(60); }, 15s));
  using ms = std::chrono::milliseconds;
  WARN("connected after " << std::chrono::duration_cast<ms>(t_conn - t0).count()
                          << " ms, first frames both ways after "
                          << std::chrono::duration_cast<ms>(t_first - t0).count() << " ms");

  CHECK(call.sa.description_type == "offer");
  CHECK(call.sb.description_type == "answer");
  CHECK(call.sa.errors.empty());
  CHECK(call.sb.errors.empty());
  CHECK(call.la.errors.empty());
  CHECK(call.lb.errors.empty());
  CHECK(call.sa.got_audio);
  CHECK(call.sb.got_audio);
  for (auto* pc : {call.pa, call.pb}) {
    auto c = pc->counters();
    CHECK(c.video_width == 854);
    CHECK(c.video_height == 480);
  }
  // ICE stayed on loopback: every local candidate is 127.0.0.1.
  REQUIRE(!call.sa.candidate_addresses.empty());
  REQUIRE(!call.sb.candidate_addresses.empty());
  for (const auto& addr : call.sa.candidate_addresses) CHECK(addr == "127.0.0.1");
  for (const auto& addr : call.sb.candidate_addresses) CHECK(addr == "127.0.0.1");

  SECTION("a receiver's keyframe request (PLI) reaches the sender's encoder through the tee") {
    uint64_t before = call.a->counters().keyframe_requests;
    GstElement* dec = gst_bin_get_by_name(GST_BIN(call.b->pipeline()), "video-decoder");
    REQUIRE(dec);
    GstPad* sink = gst_element_get_static_pad(dec, "sink");
    // What a decoder does after a broken frame: an upstream force-key-unit,
    // which rtpsession turns into RTCP PLI towards the sender.
    gst_pad_push_event(sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(sink);
    gst_object_unref(dec);
    CHECK(tc.run_until([&] { return call.a->counters().keyframe_requests > before; }, 5s));
  }

  SECTION("mute keeps the tracks alive") {
    call.a->set_muted(MediaKind::Video, true);
    call.a->set_muted(MediaKind::Audio, true);
    auto before = call.pb->counters();
    tc.run_for(1500ms);
    auto after = call.pb->counters();
    CHECK(after.video_frames > before.video_frames + 20);
    CHECK(after.audio_buffers > before.audio_buffers + 20);
  }

  bool stopped_a = false, stopped_b = false;
  call.a->stop([&] { stopped_a = true; });
  call.b->stop([&] { stopped_b = true; });
  REQUIRE(tc.run_until([&] { return stopped_a && stopped_b; }, 10s));
}

TEST_CASE("loopback call: audio-only partner still works, video-only too", "[media][loopback]") {
  TestContext tc;
  auto oa = loopback_options();
  auto ob = loopback_options();
  ob.video_source.type = SourceSpec::Type::None;  // b sends audio only
  oa.audio_source.type = SourceSpec::Type::None;  // a sends video only
  Call call(tc, oa, ob);
  call.connect();
  REQUIRE(tc.run_until([&] { return call.sa.got_audio && call.sb.got_video; }, 15s));
  REQUIRE(tc.run_until([&] {
    return call.pa->counters().audio_buffers > 30 && call.pb->counters().video_frames > 30;
  }, 10s));
  CHECK(call.pa->counters().video_frames == 0);
  CHECK(call.pb->counters().audio_buffers == 0);
  CHECK(call.sa.errors.empty());
  CHECK(call.sb.errors.empty());
  bool stopped_a = false, stopped_b = false;
  call.a->stop([&] { stopped_a = true; });
  call.b->stop([&] { stopped_b = true; });
  REQUIRE(tc.run_until([&] { return stopped_a && stopped_b; }, 10s));
}
