#pragma once
// The codec table: the one place that knows, for each codec the agent sends
// or receives (VP8, VP9, H.264, Opus), which GStreamer elements handle it
// (encoder and its settings, payloader, depayloader, parser, decoder, with
// the Debian package of each), its RTP caps, its SDP name, clock rate and
// default payload type. Send chains (LocalSource, Encoder), receive chains
// and the start-up plugin check read it; no other file names these elements.
//
// The table is constant data: every lookup is pure and may run on any
// thread. make_encoder_elements() only creates elements (no pipeline, no
// state).

#include "common/gref.h"
#include "common/result.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::media {

enum class Codec { VP8, VP9, H264, Opus };

// An element factory and the Debian package that installs it.
struct Factory {
  const char* name = nullptr;  // nullptr: no such element in this chain
  const char* package = nullptr;
  explicit operator bool() const { return name != nullptr; }
};

struct CodecInfo {
  Codec codec;
  MediaKind kind;
  // The RTP encoding-name as GStreamer's caps and our SDP reader spell it
  // (upper case): "VP8", "VP9", "H264", "OPUS".
  const char* encoding_name;
  // The rtpmap value written in SDP: "VP8/90000", "opus/48000/2".
  const char* sdp_rtpmap;
  int clock_rate;
  int channels;  // encoding-params (audio); 0 for video
  // The payload type we offer it with (browsers use the same numbers).
  int default_payload_type;
  // Encoding: `hardware_encoder` when installed (checked with the factory
  // registry), else `encoder`, which the plugin check requires.
  Factory encoder;
  const char* hardware_encoder;  // nullptr: none
  Factory payloader;
  // Decoding: depayloader -> (parser) -> decoder.
  Factory depayloader;
  Factory parser;  // also after the encoder (H.264: caps and stream format)
  Factory decoder;
};

// Every codec, video first (the order of VideoCodec), then Opus.
std::span<const CodecInfo> all_codecs();
const CodecInfo& codec_info(Codec c);
const CodecInfo& codec_info(VideoCodec c);
const CodecInfo& opus_codec();
// By RTP/SDP encoding name, case-insensitive ("vp8", "OPUS"); nullptr for
// one we do not handle (RTX, RED, ULPFEC, ...).
const CodecInfo* find_codec(std::string_view encoding_name);

// The caps a payloader for `c` produces, without payload type:
// "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000".
std::string rtp_caps(const CodecInfo& c);
// The same with ",payload=PT".
std::string rtp_caps(const CodecInfo& c, int payload_type);

// The encoder that will be used for `c` on this machine: the hardware one
// when its factory is installed, else the software one.
const char* encoder_factory(const CodecInfo& c);

// What the presets ask of an encoder.
struct EncoderSettings {
  int bitrate_kbps = 0;
  // Opus: a microphone (audio-type=voice) rather than music or a test tone.
  bool voice = false;
};
EncoderSettings encoder_settings(const MediaOptions& options, MediaKind kind);

// The encode elements for `c`, in link order: the encoder (named
// "video-encoder" / "audio-encoder") configured for `settings`, then what
// must follow it (H.264: a caps filter for the profile browsers decode, and
// the parser). Not yet in a bin. An Error names a missing element.
Result<std::vector<GRef<GstElement>>> make_encoder_elements(const CodecInfo& c,
                                                            const EncoderSettings& settings);

}  // namespace callagent::media
