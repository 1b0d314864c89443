// Parsing and helpers of src/media that need no running pipeline.

#include "media/codec.h"
#include "media/plugin_check.h"
#include "media/recorder.h"
#include "media/sdp_info.h"
#include "media/slate.h"
#include "media_test_util.h"

using namespace callagent;
using namespace callagent::media;

TEST_CASE("presets parse", "[media][units]") {
  auto v = parse_video_preset("4k", 60);
  REQUIRE(v.ok());
  CHECK(v->width == 3840);
  CHECK(v->height == 2160);
  CHECK(v->effective_bitrate_kbps() == 8000);
  CHECK(parse_video_preset("480p", 30)->width == 854);
  CHECK(parse_video_preset("720p", 24)->effective_bitrate_kbps() < 2500);
  CHECK_FALSE(parse_video_preset("999p", 30).ok());
  CHECK(parse_video_preset("1080p", 25).error().code == ExitCode::Usage);
  auto a = parse_audio_preset("low");
  REQUIRE(a.ok());
  CHECK(a->rate == 32000);
  CHECK(a->channels == 1);
  CHECK_FALSE(parse_audio_preset("loud").ok());
}

TEST_CASE("the slate's words are escaped markup, the detail smaller", "[media][units]") {
  const std::string m = slate_markup("Waiting for <someone> & co", "room a\"b");
  CHECK(m.find("Waiting for &lt;someone&gt; &amp; co") != std::string::npos);
  CHECK(m.find("room a&quot;b") != std::string::npos);
  CHECK(m.find("<someone>") == std::string::npos);
  CHECK(m.find('\n') != std::string::npos);
  CHECK(slate_markup("Only a title", "").find('\n') == std::string::npos);
}

TEST_CASE("the slate source delivers frames of its caps in its colour", "[media][units]") {
  test::TestContext tc;
  GRef<GstElement> pipe = GRef<GstElement>::ref_sink(gst_pipeline_new("slate-test"));
  GstElement* text = nullptr;
  GstElement* last = add_slate_source(GST_BIN(pipe.get()), "video/x-raw,format=RGBx,width=320,height=180,framerate=5/1",
                                      slate_markup("Camera unavailable", "trying"), &text);
  REQUIRE(last);
  CHECK(text);
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add(GST_BIN(pipe.get()), sink);
  REQUIRE(gst_element_link(last, sink));
  REQUIRE(gst_element_set_state(pipe.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstSample* smp = nullptr;
  g_signal_emit_by_name(sink, "try-pull-sample", static_cast<GstClockTime>(5 * GST_SECOND), &smp);
  REQUIRE(smp);
  GstStructure* st = gst_caps_get_structure(gst_sample_get_caps(smp), 0);
  int w = 0, h = 0;
  gst_structure_get_int(st, "width", &w);
  gst_structure_get_int(st, "height", &h);
  CHECK(w == 320);
  CHECK(h == 180);
  GstMapInfo map;
  REQUIRE(gst_buffer_map(gst_sample_get_buffer(smp), &map, GST_MAP_READ));
  // A corner is the background (0x1f2a36), the middle band has light words.
  CHECK(map.data[0] == 0x1f);
  CHECK(map.data[1] == 0x2a);
  CHECK(map.data[2] == 0x36);
  int light = 0;
  for (int y = 45; y < 135; ++y)
    for (int x = 0; x < 320; ++x) {
      const guint8* p = map.data + (y * 320 + x) * 4;
      light += p[0] > 170 && p[1] > 170 && p[2] > 170;
    }
  CHECK(light > 100);
  gst_buffer_unmap(gst_sample_get_buffer(smp), &map);
  gst_sample_unref(smp);
  gst_element_set_state(pipe.get(), GST_STATE_NULL);
}

TEST_CASE("source specs parse", "[media][units]") {
  using T = SourceSpec::Type;
  CHECK(parse_source_spec("test", MediaKind::Video)->type == T::Test);
  CHECK(parse_source_spec("none", MediaKind::Audio)->type == T::None);
  auto v = parse_source_spec("v4l2", MediaKind::Video);
  CHECK(v->device == "/dev/video0");
  CHECK(parse_source_spec("v4l2:/dev/video2", MediaKind::Video)->device == "/dev/video2");
  CHECK_FALSE(parse_source_spec("v4l2", MediaKind::Audio).ok());
  CHECK_FALSE(parse_source_spec("alsa", MediaKind::Video).ok());
  auto al = parse_source_spec("alsa:hw:1,0", MediaKind::Audio);
  CHECK(al->type == T::Alsa);
  CHECK(al->device == "hw:1,0");
  auto f = parse_source_spec("file:/tmp/a b.mkv,loop", MediaKind::Video);
  CHECK(f->type == T::File);
  CHECK(f->device == "/tmp/a b.mkv");
  CHECK(f->loop);
  CHECK_FALSE(parse_source_spec("file:", MediaKind::Video).ok());
  auto bad = parse_source_spec("camera", MediaKind::Video);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("test") != std::string::npos);
}

TEST_CASE("browser candidates are reduced to what libnice parses", "[media][units]") {
  CHECK(sanitize_candidate("candidate:842163049 1 udp 2113937151 127.0.0.1 46022 typ host "
                           "generation 0 ufrag X network-id 1 network-cost 50") ==
        "candidate:842163049 1 udp 2113937151 127.0.0.1 46022 typ host");
  CHECK(sanitize_candidate("candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active "
                           "generation 0") ==
        "candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active");
  CHECK(sanitize_candidate("candidate:2 1 udp 1 1.2.3.4 5 typ srflx raddr 0.0.0.0 rport 0") ==
        "candidate:2 1 udp 1 1.2.3.4 5 typ srflx raddr 0.0.0.0 rport 0");
  CHECK(sanitize_candidate("").empty());
  CHECK(sanitize_candidate("garbage").empty());
  CHECK(candidate_address("candidate:1 1 udp 2 127.0.0.1 5000 typ host") == "127.0.0.1");
  // TCP candidates wait a second behind UDP ones (RemoteCandidates).
  CHECK(is_tcp_candidate("candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active"));
  CHECK(is_tcp_candidate("candidate:1 1 TCP 1518280447 127.0.0.1 9 typ host tcptype passive"));
  CHECK_FALSE(is_tcp_candidate("candidate:842163049 1 udp 2113937151 127.0.0.1 46022 typ host"));
  CHECK_FALSE(is_tcp_candidate("candidate:1 1"));
}

TEST_CASE("missing plugins name their Debian package", "[media][units]") {
  test::init_gst();
  auto st = check_elements({{"queue", "libgstreamer1.0-0"},
                            {"no-such-element-xyz", "gstreamer1.0-plugins-bad"}});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ExitCode::Config);
  CHECK(st.error().message.find("no-such-element-xyz (install gstreamer1.0-plugins-bad)") !=
        std::string::npos);
  MediaOptions o;
  o.output.record_path = "/tmp/x.mkv";
  o.output.rtmp_url = "rtmp://127.0.0.1/live/x";
  CHECK(check_plugins(o).ok());  // this machine has everything
}

TEST_CASE("a camera source requires jpegdec (gstreamer1.0-plugins-good)", "[media][units]") {
  auto has = [](const MediaOptions& o, const std::string& f) {
    for (const auto& e : required_elements(o))
      if (e.factory == f) return e.package == "gstreamer1.0-plugins-good";
    return false;
  };
  MediaOptions o;
  CHECK_FALSE(has(o, "jpegdec"));  // test sources
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  CHECK(has(o, "jpegdec"));
  o.video_source = *parse_source_spec("auto", MediaKind::Video);
  CHECK(has(o, "jpegdec"));
  o.video_source.type = SourceSpec::Type::None;
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  CHECK_FALSE(has(o, "jpegdec"));
}

TEST_CASE("recorder: caps after a resolution change keep the first caps' other fields",
          "[media][units]") {
  test::init_gst();
  auto str = [](GstCaps* transfer_full) {
    GUnique<GstCaps> c(transfer_full);
    GCharPtr s(gst_caps_to_string(c.get()));
    return std::string(s.get());
  };
  GUnique<GstCaps> first(gst_caps_from_string(
      "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)2.1, "
      "profile=(string)constrained-baseline, width=(int)320, height=(int)180, "
      "framerate=(fraction)30/1, colorimetry=(string)bt601"));
  GUnique<GstCaps> next(gst_caps_from_string(
      "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)3.1, "
      "profile=(string)constrained-baseline, width=(int)1280, height=(int)720, "
      "framerate=(fraction)30/1, colorimetry=(string)bt709"));
  CHECK(str(Recorder::continued_caps(first.get(), next.get())) ==
        "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)3.1, "
        "profile=(string)constrained-baseline, width=(int)1280, height=(int)720, "
        "framerate=(fraction)30/1, colorimetry=(string)bt601");
  GUnique<GstCaps> vp8a(gst_caps_from_string(
      "video/x-vp8, framerate=(fraction)0/1, height=(int)180, width=(int)320, profile=(string)0"));
  GUnique<GstCaps> vp8b(gst_caps_from_string(
      "video/x-vp8, framerate=(fraction)0/1, height=(int)720, width=(int)1280"));
  CHECK(str(Recorder::continued_caps(vp8a.get(), vp8b.get())) ==
        "video/x-vp8, framerate=(fraction)0/1, height=(int)720, width=(int)1280");
}

TEST_CASE("a named display sink is checked at start-up", "[media][units]") {
  test::init_gst();
  MediaOptions o;
  o.output.video_sink = "ximagesink";
  auto has = [](const std::vector<RequiredElement>& r, const std::string& f, const std::string& pkg) {
    for (const auto& e : r)
      if (e.factory == f && e.package == pkg) return true;
    return false;
  };
  CHECK(has(required_elements(o), "ximagesink", "gstreamer1.0-x"));
  o.output.video_sink = "no-such-sink-xyz";
  auto st = check_plugins(o);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("no-such-sink-xyz") != std::string::npos);
  o.output.video_sink = "auto";
  CHECK(has(required_elements(o), "autovideosink", "gstreamer1.0-plugins-good"));
}

// ---- the codec table (media/codec.h) ----------------------------------------

namespace {
// The factory's klass metadata ("Codec/Encoder/Video", ...).
std::string klass_of(const char* factory) {
  GRef<GstElementFactory> f = GRef<GstElementFactory>::adopt(gst_element_factory_find(factory));
  if (!f) return {};
  const char* k = gst_element_factory_get_metadata(f.get(), GST_ELEMENT_METADATA_KLASS);
  return k ? k : "";
}

// Whether `factory`'s pad template `pad` can carry `caps`.
bool template_accepts(const char* factory, const char* pad, const std::string& caps) {
  GRef<GstElementFactory> f = GRef<GstElementFactory>::adopt(gst_element_factory_find(factory));
  if (!f) return false;
  GUnique<GstCaps> want(gst_caps_from_string(caps.c_str()));
  for (const GList* l = gst_element_factory_get_static_pad_templates(f.get()); l; l = l->next) {
    auto* t = static_cast<GstStaticPadTemplate*>(l->data);
    if (std::string(t->name_template) != pad) continue;
    GUnique<GstCaps> tc(gst_static_caps_get(&t->static_caps));
    return gst_caps_can_intersect(tc.get(), want.get());
  }
  return false;
}
}  // namespace

TEST_CASE("codec table: names, clock rates and payload types", "[media][units]") {
  REQUIRE(all_codecs().size() == 4);
  for (size_t i = 0; i < all_codecs().size(); ++i)
    CHECK(static_cast<size_t>(all_codecs()[i].codec) == i);  // indexed by Codec
  const auto& vp8 = codec_info(VideoCodec::VP8);
  const auto& vp9 = codec_info(VideoCodec::VP9);
  const auto& h264 = codec_info(VideoCodec::H264);
  const auto& opus = opus_codec();
  CHECK(std::string(vp8.encoding_name) == "VP8");
  CHECK(std::string(vp9.encoding_name) == "VP9");
  CHECK(std::string(h264.encoding_name) == "H264");
  CHECK(std::string(opus.encoding_name) == "OPUS");
  CHECK(std::string(vp8.sdp_rtpmap) == "VP8/90000");
  CHECK(std::string(h264.sdp_rtpmap) == "H264/90000");
  CHECK(std::string(opus.sdp_rtpmap) == "opus/48000/2");
  CHECK(vp8.default_payload_type == 96);
  CHECK(vp9.default_payload_type == 98);
  CHECK(h264.default_payload_type == 102);
  CHECK(opus.default_payload_type == 111);
  for (const auto& c : all_codecs()) {
    CHECK(c.clock_rate == (c.kind == MediaKind::Video ? 90000 : 48000));
    CHECK(c.channels == (c.kind == MediaKind::Audio ? 2 : 0));
  }
  CHECK(find_codec("vp8") == &vp8);
  CHECK(find_codec("H264") == &h264);
  CHECK(find_codec("opus") == &opus);
  CHECK(find_codec("OPUS") == &opus);
  CHECK(find_codec("RTX") == nullptr);
  CHECK(find_codec("VP") == nullptr);
  CHECK(find_codec("") == nullptr);
}

TEST_CASE("codec table: RTP caps", "[media][units]") {
  test::init_gst();
  CHECK(rtp_caps(codec_info(VideoCodec::VP8)) ==
        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000");
  CHECK(rtp_caps(codec_info(VideoCodec::VP9)) ==
        "application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000");
  CHECK(rtp_caps(codec_info(VideoCodec::H264)) ==
        "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,"
        "packetization-mode=(string)1");
  CHECK(rtp_caps(opus_codec()) ==
        "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
        "encoding-params=(string)2");
  CHECK(rtp_caps(opus_codec(), 111) ==
        "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
        "encoding-params=(string)2,payload=111");
  for (const auto& c : all_codecs()) {
    GUnique<GstCaps> caps(gst_caps_from_string(rtp_caps(c, c.default_payload_type).c_str()));
    REQUIRE(caps);
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    int pt = 0, rate = 0;
    CHECK(gst_structure_get_int(s, "payload", &pt));
    CHECK(pt == c.default_payload_type);
    CHECK(gst_structure_get_int(s, "clock-rate", &rate));
    CHECK(rate == c.clock_rate);
    CHECK(std::string(gst_structure_get_string(s, "encoding-name")) == c.encoding_name);
  }
}

TEST_CASE("codec table: every element is installed and does its job", "[media][units]") {
  test::init_gst();
  for (const auto& c : all_codecs()) {
    INFO(c.encoding_name);
    const std::string caps = rtp_caps(c, c.default_payload_type);
    for (const Factory* f : {&c.encoder, &c.payloader, &c.depayloader, &c.decoder}) {
      REQUIRE(*f);
      INFO(f->name);
      CHECK(have_factory(f->name));
      CHECK(std::string(f->package).rfind("gstreamer1.0-", 0) == 0);
    }
    CHECK(klass_of(c.encoder.name).find("Encoder") != std::string::npos);
    CHECK(klass_of(c.decoder.name).find("Decoder") != std::string::npos);
    CHECK(klass_of(c.payloader.name).find("Payloader") != std::string::npos);
    CHECK(klass_of(c.depayloader.name).find("Depayloader") != std::string::npos);
    // The payloader sends and the depayloader takes exactly our RTP caps.
    CHECK(template_accepts(c.payloader.name, "src", caps));
    CHECK(template_accepts(c.depayloader.name, "sink", caps));
    if (c.parser) {
      CHECK(have_factory(c.parser.name));
      CHECK(klass_of(c.parser.name).find("Parser") != std::string::npos);
    }
    // Without a hardware encoder installed, the software one is used.
    if (!c.hardware_encoder || !have_factory(c.hardware_encoder))
      CHECK(std::string(encoder_factory(c)) == c.encoder.name);
  }
  CHECK(codec_info(VideoCodec::H264).parser);
  CHECK_FALSE(codec_info(VideoCodec::VP8).parser);
}

TEST_CASE("codec table: encoders are configured for the preset", "[media][units]") {
  test::init_gst();
  MediaOptions o;
  o.video = *parse_video_preset("480p", 30);
  o.audio = *parse_audio_preset("low");
  auto vs = encoder_settings(o, MediaKind::Video);
  CHECK(vs.bitrate_kbps == o.video.effective_bitrate_kbps());
  auto as = encoder_settings(o, MediaKind::Audio);
  CHECK(as.bitrate_kbps == 32);
  CHECK_FALSE(as.voice);  // a test tone
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  CHECK(encoder_settings(o, MediaKind::Audio).voice);

  auto vp8 = make_encoder_elements(codec_info(VideoCodec::VP8), vs);
  REQUIRE(vp8.ok());
  REQUIRE(vp8->size() == 1);
  GstElement* enc = vp8->front().get();
  CHECK(std::string(GST_ELEMENT_NAME(enc)) == "video-encoder");
  int target = 0;
  g_object_get(enc, "target-bitrate", &target, nullptr);
  CHECK(target == vs.bitrate_kbps * 1000);

  auto opus = make_encoder_elements(opus_codec(), encoder_settings(o, MediaKind::Audio));
  REQUIRE(opus.ok());
  REQUIRE(opus->size() == 1);
  CHECK(std::string(GST_ELEMENT_NAME(opus->front().get())) == "audio-encoder");
  int bitrate = 0;
  g_object_get(opus->front().get(), "bitrate", &bitrate, nullptr);
  CHECK(bitrate == 32000);

  auto h264 = make_encoder_elements(codec_info(VideoCodec::H264), vs);
  REQUIRE(h264.ok());
  REQUIRE(h264->size() == 3);  // encoder, profile caps, parser
  CHECK(std::string(GST_ELEMENT_NAME((*h264)[1].get())) == "video-encoder-caps");
  GstElementFactory* parse = gst_element_get_factory((*h264)[2].get());
  CHECK(std::string(GST_OBJECT_NAME(parse)) == "h264parse");
}

TEST_CASE("the plugin check asks for the sent codec's elements", "[media][units]") {
  auto factories = [](const MediaOptions& o) {
    std::vector<std::string> f;
    for (const auto& e : required_elements(o)) f.push_back(e.factory);
    return f;
  };
  auto has = [](const std::vector<std::string>& v, const char* f) {
    return std::find(v.begin(), v.end(), f) != v.end();
  };
  MediaOptions o;
  auto vp8 = factories(o);
  for (const char* f : {"vp8enc", "rtpvp8pay", "rtpvp8depay", "vp8dec", "opusenc", "opusdec",
                        "rtpopuspay", "rtpopusdepay"})
    CHECK(has(vp8, f));
  CHECK_FALSE(has(vp8, "x264enc"));
  o.codec = VideoCodec::H264;
  auto h264 = factories(o);
  for (const char* f : {"x264enc", "h264parse", "rtph264pay"}) CHECK(has(h264, f));
  CHECK_FALSE(has(h264, "vp8enc"));
  o.codec = VideoCodec::VP9;
  CHECK(has(factories(o), "vp9enc"));
}
