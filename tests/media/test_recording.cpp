// Recording the remote side without re-encoding, read back with ffprobe.

#include "media_test_util.h"

using namespace callagent;
using namespace callagent::media;
using namespace callagent::media::test;
using namespace std::chrono_literals;

namespace {
struct Pair {
  TestContext& tc;
  LoopbackSide sa, sb;
  PeerConnection* pa = nullptr;
  PeerConnection* pb = nullptr;
  void connect(MediaEngine& a, MediaEngine& b) {
    sa = LoopbackSide{};
    sb = LoopbackSide{};
    sa.ctx = sb.ctx = tc.get();
    pa = a.add_peer(&sa);
    pb = b.add_peer(&sb);
    REQUIRE(pa);
    REQUIRE(pb);
    sa.other = pb;
    sb.other = pa;
    pb->create_offer();  // the recording side answers, as with a browser that offers
  }
};

void check_recording(const std::string& path, double seconds) {
  ProbeResult r = probe(path);
  INFO(path);
  CHECK(r.video_codec == "vp8");
  CHECK(r.audio_codec == "opus");
  CHECK(r.width == 854);
  CHECK(r.height == 480);
  CHECK(r.duration == Approx(seconds).margin(1.2));
  // 30 fps minus start-up: at least 70 % of the frames.
  CHECK(r.video_frames >= static_cast<long>(seconds * 30 * 0.7));
  CHECK(r.video_frames <= static_cast<long>((seconds + 1.2) * 30));
}
}  // namespace

TEST_CASE("recording: VP8 + Opus into Matroska, finalized by stop()", "[media][recording]") {
  TestContext tc;
  TempDir dir;
  EngineListener la, lb;
  MediaOptions oa = loopback_options();
  oa.output.record_path = dir.file("call.mkv");
  auto a = MediaEngine::create(oa, &la);
  auto b = MediaEngine::create(loopback_options(), &lb);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Pair p{tc};
  p.connect(**a, **b);
  REQUIRE(tc.run_until([&] { return p.sa.got_video && p.sa.got_audio; }, 10s));
  auto t0 = std::chrono::steady_clock::now();
  tc.run_for(4000ms);
  bool stopped = false;
  (*a)->stop([&] { stopped = true; });
  REQUIRE(tc.run_until([&] { return stopped; }, 8s));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(la.errors.empty());
  check_recording(oa.output.record_path, secs);
}

TEST_CASE("recording: a partner leaves, a new one comes: FILE-2.mkv", "[media][recording]") {
  TestContext tc;
  TempDir dir;
  EngineListener la, lb;
  MediaOptions oa = loopback_options();
  oa.output.record_path = dir.file("rec.mkv");
  auto a = MediaEngine::create(oa, &la);
  auto b = MediaEngine::create(loopback_options(), &lb);
  REQUIRE(a.ok());
  REQUIRE(b.ok());

  Pair first{tc};
  first.connect(**a, **b);
  REQUIRE(tc.run_until([&] { return first.sa.got_video && first.sa.got_audio; }, 10s));
  CHECK(first.pa->recording_path() == oa.output.record_path);
  // Durations are measured, not assumed: on a loaded machine removing a
  // peer (EOS through the muxer) takes a while, and the file holds it all.
  auto since = [](auto t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto t0 = std::chrono::steady_clock::now();
  tc.run_for(2500ms);
  bool removed = false;
  // The partner leaves: both sides drop their peer; the engines keep running.
  (*b)->remove_peer(first.pb);
  (*a)->remove_peer(first.pa, [&] { removed = true; });
  REQUIRE(tc.run_until([&] { return removed; }, 8s));
  // The first file is complete now, while the engine still runs.
  check_recording(oa.output.record_path, since(t0));

  Pair second{tc};
  second.connect(**a, **b);
  REQUIRE(tc.run_until([&] { return second.sa.got_video && second.sa.got_audio; }, 10s));
  CHECK(second.pa->recording_path() == dir.file("rec-2.mkv"));
  t0 = std::chrono::steady_clock::now();
  tc.run_for(2500ms);
  bool stopped = false;
  (*a)->stop([&] { stopped = true; });
  REQUIRE(tc.run_until([&] { return stopped; }, 8s));
  check_recording(dir.file("rec-2.mkv"), since(t0));
  CHECK(la.errors.empty());
  CHECK(lb.errors.empty());
}
