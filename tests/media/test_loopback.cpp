// A real call in one process: two MediaEngines with test sources, ICE on
// 127.0.0.1 only, descriptions and candidates exchanged directly.

#include "media/sdp_info.h"
#include "media_test_util.h"

#include <gio/gio.h>
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

// ---- mDNS candidates ---------------------------------------------------------
// A resolver that knows every "*.local" name as 127.0.0.1, standing in for
// nss-mdns (which this machine does not have), installed as GLib's default.
namespace {
struct TestResolver {
  GResolver parent;
};
struct TestResolverClass {
  GResolverClass parent_class;
};
G_DEFINE_TYPE(TestResolver, test_resolver, G_TYPE_RESOLVER)

GList* local_addresses(const gchar* host, GError** error) {
  if (!g_str_has_suffix(host, ".local")) {
    g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "%s: not a test name", host);
    return nullptr;
  }
  return g_list_append(nullptr, g_inet_address_new_from_string("127.0.0.1"));
}
GList* test_lookup(GResolver*, const gchar* host, GCancellable*, GError** error) {
  return local_addresses(host, error);
}
void test_lookup_async(GResolver* r, const gchar* host, GCancellable* c, GAsyncReadyCallback cb,
                       gpointer data) {
  GTask* task = g_task_new(r, c, cb, data);
  GError* error = nullptr;
  GList* l = local_addresses(host, &error);
  if (l)
    g_task_return_pointer(task, l, reinterpret_cast<GDestroyNotify>(g_resolver_free_addresses));
  else
    g_task_return_error(task, error);
  g_object_unref(task);
}
GList* test_lookup_finish(GResolver*, GAsyncResult* res, GError** error) {
  return static_cast<GList*>(g_task_propagate_pointer(G_TASK(res), error));
}
void test_resolver_init(TestResolver*) {}
void test_resolver_class_init(TestResolverClass* klass) {
  GResolverClass* rc = G_RESOLVER_CLASS(klass);
  rc->lookup_by_name = test_lookup;
  rc->lookup_by_name_async = test_lookup_async;
  rc->lookup_by_name_finish = test_lookup_finish;
}

// "candidate:F C udp P 127.0.0.1 PORT typ host ..." -> the address hidden
// behind a per-side .local name, as Chromium does.
std::string hide_address(const std::string& line, const std::string& name) {
  auto pos = line.find(" 127.0.0.1 ");
  if (pos == std::string::npos) return line;
  return line.substr(0, pos + 1) + name + line.substr(pos + 10);
}
}  // namespace

TEST_CASE("loopback call: candidates hidden behind mDNS names are resolved", "[media][loopback]") {
  TestContext tc;
  GResolver* previous = g_resolver_get_default();
  GResolver* test = G_RESOLVER(g_object_new(test_resolver_get_type(), nullptr));
  g_resolver_set_default(test);
  {
    Call call(tc, loopback_options(), loopback_options());
    // Every candidate of both sides only carries a .local name: without
    // resolution neither side has a single address to check.
    call.sa.rewrite_candidate = [](const std::string& l) { return hide_address(l, "7c1d2b7e-aaaa.local"); };
    call.sb.rewrite_candidate = [](const std::string& l) { return hide_address(l, "7c1d2b7e-bbbb.local"); };
    call.connect();
    CHECK(tc.run_until([&] { return call.sa.got_video && call.sb.got_video; }, 20s));
    CHECK(call.sa.connected());
    CHECK(call.sb.connected());
    bool stopped_a = false, stopped_b = false;
    call.a->stop([&] { stopped_a = true; });
    call.b->stop([&] { stopped_b = true; });
    REQUIRE(tc.run_until([&] { return stopped_a && stopped_b; }, 10s));
  }
  g_resolver_set_default(previous);
  g_object_unref(previous);
  g_object_unref(test);
}

// The endpoint keeps no queue of remote candidates: it hands each to
// webrtcbin at once, which (1.22) keeps those that come before both
// descriptions are set and applies them afterwards.
TEST_CASE("loopback call: candidates that arrive before the offer are applied", "[media][loopback]") {
  TestContext tc;
  Call call(tc, loopback_options(), loopback_options());
  call.sa.description_delay = 1500ms;  // a's candidates reach b before a's offer
  call.connect();
  REQUIRE(tc.run_until([&] { return call.sa.description_forwarded; }, 10s));
  CHECK(call.sa.candidates_before_description > 0);
  REQUIRE(tc.run_until([&] { return call.sa.connected() && call.sb.connected(); }, 10s));
  REQUIRE(tc.run_until([&] { return call.media_both_ways(30); }, 15s));
  CHECK(call.sa.errors.empty());
  CHECK(call.sb.errors.empty());
}
