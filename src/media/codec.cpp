#include "media/codec.h"

#include "gst/gst_util.h"
#include "media/debian_packages.h"

#include <fmt/format.h>

#include <array>
#include <strings.h>

namespace callagent::media {

using namespace debian;

namespace {

// Indexed by Codec.
constexpr std::array<CodecInfo, 4> kCodecs = {{
    {Codec::VP8, MediaKind::Video, "VP8", "VP8/90000", 90000, 0, 96, {"vp8enc", kGood}, nullptr,
     {"rtpvp8pay", kGood}, {"rtpvp8depay", kGood}, {}, {"vp8dec", kGood}},
    {Codec::VP9, MediaKind::Video, "VP9", "VP9/90000", 90000, 0, 98, {"vp9enc", kGood}, nullptr,
     {"rtpvp9pay", kGood}, {"rtpvp9depay", kGood}, {}, {"vp9dec", kGood}},
    // The Raspberry Pi's (and other SoCs') kernel encoder when present.
    {Codec::H264, MediaKind::Video, "H264", "H264/90000", 90000, 0, 102, {"x264enc", kUgly},
     "v4l2h264enc", {"rtph264pay", kGood}, {"rtph264depay", kGood}, {"h264parse", kBad},
     {"avdec_h264", kLibav}},
    {Codec::Opus, MediaKind::Audio, "OPUS", "opus/48000/2", 48000, 2, 111, {"opusenc", kBase},
     nullptr, {"rtpopuspay", kGood}, {"rtpopusdepay", kGood}, {}, {"opusdec", kBase}},
}};

// VP8 and VP9 (libvpx) for real-time sending.
void configure_vpx(GstElement* enc, const EncoderSettings& s) {
  // threads=1: with threads=2 vp8enc spun at 2-3x the CPU on a busy machine
  // and fell behind real time at 1080p; a positive cpu-used adapts the
  // speed to wall-clock time (docs/measurements.md). Keyframes come on
  // request (PLI/FIR, new peers), with a long safety interval.
  g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "threads", 1,
               "keyframe-max-dist", 3000, "target-bitrate", s.bitrate_kbps * 1000,
               "lag-in-frames", 0, nullptr);
  gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
  gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
}

void configure_v4l2_h264(GstElement* enc, const EncoderSettings& s) {
  GUnique<GstStructure> ctrls(gst_structure_new("controls", "video_bitrate", G_TYPE_INT,
                                                s.bitrate_kbps * 1000, "h264_i_frame_period",
                                                G_TYPE_INT, 3000, nullptr));
  g_object_set(enc, "extra-controls", ctrls.get(), nullptr);
}

void configure_x264(GstElement* enc, const EncoderSettings& s) {
  gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
  gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
  g_object_set(enc, "bitrate", s.bitrate_kbps, "key-int-max", 3000, "threads", 1, nullptr);
}

void configure_opus(GstElement* enc, const EncoderSettings& s) {
  // In-band FEC sized for a few percent loss: the receiver's opusdec
  // recovers a lost packet from the next one.
  g_object_set(enc, "bitrate", s.bitrate_kbps * 1000, "inband-fec", TRUE,
               "packet-loss-percentage", 5, nullptr);
  gst_util_set_object_arg(G_OBJECT(enc), "audio-type", s.voice ? "voice" : "generic");
}

GRef<GstElement> sunk(GstElement* floating) { return GRef<GstElement>::ref_sink(floating); }
}  // namespace

std::span<const CodecInfo> all_codecs() { return kCodecs; }

const CodecInfo& codec_info(Codec c) { return kCodecs[static_cast<size_t>(c)]; }

const CodecInfo& codec_info(VideoCodec c) {
  switch (c) {
    case VideoCodec::VP8: return codec_info(Codec::VP8);
    case VideoCodec::VP9: return codec_info(Codec::VP9);
    case VideoCodec::H264: return codec_info(Codec::H264);
  }
  return codec_info(Codec::VP8);
}

const CodecInfo& opus_codec() { return codec_info(Codec::Opus); }

const CodecInfo* find_codec(std::string_view encoding_name) {
  for (const auto& c : kCodecs) {
    if (encoding_name.size() == std::char_traits<char>::length(c.encoding_name) &&
        strncasecmp(encoding_name.data(), c.encoding_name, encoding_name.size()) == 0)
      return &c;
  }
  return nullptr;
}

std::string rtp_caps(const CodecInfo& c) {
  std::string caps = fmt::format("application/x-rtp,media={},encoding-name={},clock-rate={}",
                                 to_string(c.kind), c.encoding_name, c.clock_rate);
  // "/2": RFC 7587 names Opus opus/48000/2 in SDP; a browser rejects an
  // offered "OPUS/48000" m-line (port 0) and webrtcbin then never connects
  // the bundle.
  if (c.channels > 0) caps += fmt::format(",encoding-params=(string){}", c.channels);
  // packetization-mode=1 (FU-A, what rtph264pay sends): browsers and our
  // own answer side only take that variant.
  if (c.codec == Codec::H264) caps += ",packetization-mode=(string)1";
  return caps;
}

std::string rtp_caps(const CodecInfo& c, int payload_type) {
  return fmt::format("{},payload={}", rtp_caps(c), payload_type);
}

const char* encoder_factory(const CodecInfo& c) {
  if (c.hardware_encoder && have_factory(c.hardware_encoder)) return c.hardware_encoder;
  return c.encoder.name;
}

EncoderSettings encoder_settings(const MediaOptions& o, MediaKind kind) {
  if (kind == MediaKind::Video) return {o.video.effective_bitrate_kbps(), false};
  return {o.audio.bitrate_kbps, o.audio_source.is_capture_device()};
}

Result<std::vector<GRef<GstElement>>> make_encoder_elements(const CodecInfo& c,
                                                            const EncoderSettings& s) {
  const std::string name = fmt::format("{}-encoder", to_string(c.kind));
  std::vector<GRef<GstElement>> out;
  auto missing = [&](const char* factory) {
    return Error{ExitCode::Config, fmt::format("cannot create the {} element {}",
                                               c.encoding_name, factory)};
  };
  const char* factory = encoder_factory(c);
  GRef<GstElement> enc = sunk(make_element(factory, name.c_str()));
  if (!enc && factory != c.encoder.name) {
    factory = c.encoder.name;  // the hardware encoder is there but does not open
    enc = sunk(make_element(factory, name.c_str()));
  }
  if (!enc) return missing(factory);
  switch (c.codec) {
    case Codec::VP8:
    case Codec::VP9: configure_vpx(enc.get(), s); break;
    case Codec::H264:
      if (factory == c.hardware_encoder)
        configure_v4l2_h264(enc.get(), s);
      else
        configure_x264(enc.get(), s);
      break;
    case Codec::Opus: configure_opus(enc.get(), s); break;
  }
  out.push_back(std::move(enc));
  if (c.codec == Codec::H264) {
    // The profile every browser decodes, as Annex B for the parser and
    // the payloader.
    GRef<GstElement> cf = sunk(make_element("capsfilter", "video-encoder-caps"));
    if (!cf) return missing("capsfilter");
    set_caps(cf.get(), "video/x-h264,profile=constrained-baseline,stream-format=byte-stream");
    out.push_back(std::move(cf));
    GRef<GstElement> parse = sunk(make_element(c.parser.name, nullptr));
    if (!parse) return missing(c.parser.name);
    out.push_back(std::move(parse));
  }
  return out;
}

}  // namespace callagent::media
