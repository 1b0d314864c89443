// Recording the remote side without re-encoding, read back with ffprobe.

#include "gst/gst_util.h"
#include "media_test_util.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

// ---- a large remote resolution change ------------------------------------------

namespace {

// Per decoded frame, in order: "WxH" (ffprobe decodes every frame).
std::vector<std::string> frame_sizes(const std::string& path) {
  std::string out = run_command("ffprobe -v error -select_streams v -show_frames "
                                "-show_entries frame=width,height -of csv=p=0 '" + path +
                                "' 2>/dev/null");
  std::vector<std::string> sizes;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    // "1280,720" (side data may follow, on this line or the next)
    int w = 0, h = 0;
    if (std::sscanf(line.c_str(), "%d,%d", &w, &h) != 2) continue;
    sizes.push_back(fmt::format("{}x{}", w, h));
  }
  return sizes;
}

// Runs of equal sizes: {"320x180", 45}, {"1280x720", 60}, ...
std::vector<std::pair<std::string, int>> runs(const std::vector<std::string>& sizes) {
  std::vector<std::pair<std::string, int>> r;
  for (const auto& s : sizes) {
    if (r.empty() || r.back().first != s)
      r.emplace_back(s, 1);
    else
      ++r.back().second;
  }
  return r;
}

// The sender's preset capsfilter, re-set at run time: videoscale scales to
// the new size and the encoder restarts with a keyframe at it, as when a
// browser's sender changes resolution.
void set_sent_size(MediaEngine& e, int w, int h, int fps) {
  GstElement* cf = gst_bin_get_by_name(GST_BIN(e.pipeline()), "video-preset");
  REQUIRE(cf);
  set_caps(cf, fmt::format("video/x-raw,format=I420,width={},height={},framerate={}/1,"
                           "pixel-aspect-ratio=1/1",
                           w, h, fps));
  gst_object_unref(cf);
}

void record_resolution_switch(VideoCodec codec, const std::string& file) {
  TestContext tc;
  TempDir dir;
  EngineListener la, lb;
  MediaOptions oa = loopback_options();
  oa.codec = codec;
  oa.output.record_path = dir.file(file);
  MediaOptions ob = loopback_options();
  ob.codec = codec;
  ob.video.width = 320;
  ob.video.height = 180;
  ob.video.bitrate_kbps = 1500;  // enough for 720p too
  auto a = MediaEngine::create(oa, &la);
  auto b = MediaEngine::create(ob, &lb);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Pair p{tc};
  p.connect(**a, **b);
  REQUIRE(tc.run_until([&] { return p.sa.got_video && p.sa.got_audio; }, 10s));
  tc.run_for(1500ms);
  set_sent_size(**b, 1280, 720, 30);
  tc.run_for(2500ms);
  set_sent_size(**b, 320, 180, 30);
  tc.run_for(1500ms);
  bool stopped = false;
  (*a)->stop([&] { stopped = true; });
  REQUIRE(tc.run_until([&] { return stopped; }, 8s));
  CHECK(la.errors.empty());
  CHECK(lb.errors.empty());
  CHECK(p.sa.errors.empty());

  const std::string path = oa.output.record_path;
  INFO(path);
  // Every frame decodes: ffmpeg reads the whole file without an error.
  const std::string decode_all = "ffmpeg -v error -xerror -i '" + path + "' -enc_time_base -1 -f null - >/dev/null 2>&1";
  CHECK(std::system(decode_all.c_str()) == 0);
  auto sizes = frame_sizes(path);
  auto r = runs(sizes);
  std::string seq;
  for (const auto& [s, n] : r) seq += fmt::format("{} x{}, ", s, n);
  INFO("decoded frames: " << sizes.size() << ": " << seq);
  // ~5.5 s at 30 fps, with room for a busy machine.
  CHECK(sizes.size() >= 110);
  // 320x180, then 1280x720, then 320x180 again, each for a good while.
  REQUIRE(r.size() == 3);
  CHECK(r[0].first == "320x180");
  CHECK(r[1].first == "1280x720");
  CHECK(r[2].first == "320x180");
  CHECK(r[0].second >= 20);
  CHECK(r[1].second >= 45);
  CHECK(r[2].second >= 20);
  ProbeResult pr = probe(path);
  CHECK(pr.audio_codec == "opus");
}

}  // namespace

TEST_CASE("recording: the remote switches 320x180 -> 1280x720 -> 320x180 (VP8)",
          "[media][recording]") {
  record_resolution_switch(VideoCodec::VP8, "switch.mkv");
}

TEST_CASE("recording: the remote switches 320x180 -> 1280x720 -> 320x180 (H.264)",
          "[media][recording-h264]") {
  init_gst();
  for (const char* name : {"x264enc", "avdec_h264"}) {
    GstElementFactory* f = gst_element_factory_find(name);
    if (!f) {
      CALLAGENT_SKIP(name << " is missing (gstreamer1.0-plugins-ugly / gstreamer1.0-libav): no H.264 call here");
    }
    gst_object_unref(f);
  }
  record_resolution_switch(VideoCodec::H264, "switch-h264.mkv");
}
