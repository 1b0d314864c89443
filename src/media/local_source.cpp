#include "media/local_source.h"

#include "common/logging.h"
#include "gst/gst_util.h"
#include "media/audio_processing.h"
#include "media/capture_source.h"
#include "media/element_chain.h"
#include "media/encoder.h"
#include "media/file_source.h"
#include "media/mute_control.h"
#include "media/sent_frame_probe.h"

#include <fmt/format.h>

#include <algorithm>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

Result<std::unique_ptr<LocalSource>> LocalSource::create(GstBin* pipeline, MediaKind kind,
                                                         const MediaOptions& options,
                                                         Events events, std::string echo_probe) {
  std::unique_ptr<LocalSource> s(
      new LocalSource(pipeline, kind, options, std::move(events), std::move(echo_probe)));
  if (auto st = s->build(); !st) return st.error();
  return s;
}

LocalSource::LocalSource(GstBin* pipeline, MediaKind kind, const MediaOptions& options,
                         Events events, std::string echo_probe)
    : pipeline_(pipeline),
      kind_(kind),
      options_(options),
      events_(std::move(events)),
      echo_probe_(std::move(echo_probe)),
      codec_(kind == MediaKind::Video ? codec_info(options.codec) : opus_codec()),
      encoding_name_(codec_.encoding_name) {}

LocalSource::~LocalSource() = default;  // the elements belong to the pipeline

Result<GstElement*> LocalSource::build_source() {
  const SourceSpec& spec = kind_ == MediaKind::Video ? options_.video_source : options_.audio_source;
  if (spec.type == SourceSpec::Type::File) {
    auto f = FileSource::create(pipeline_, kind_, spec, [this] {
      if (events_.on_eos) events_.on_eos(kind_);
    });
    if (!f) return f.error();
    file_ = std::move(*f);
    return file_->bin();
  }
  auto c = CaptureSource::create(pipeline_, kind_, options_);
  if (!c) return c.error();
  capture_ = std::move(*c);
  return capture_->bin();
}

Status LocalSource::build_video_chain(ElementChain& chain) {
  const auto& v = options_.video;
  chain.add("videoconvert", "video-convert");
  chain.add("videoscale", "video-scale");
  chain.add("videorate", "video-rate");
  GstElement* preset = chain.add("capsfilter", "video-preset");
  if (!preset) return Error{ExitCode::Config, "cannot build the video chain"};
  set_caps(preset, fmt::format("video/x-raw,format=I420,width={},height={},framerate={}/1,"
                               "pixel-aspect-ratio=1/1",
                               v.width, v.height, v.fps));
  // The congestion controller changes these caps while running (a smaller
  // picture for a narrow path): videoscale and videorate above convert,
  // and the encoder re-creates itself with a keyframe.
  preset_caps_ = preset;
  format_w_ = v.width;
  format_h_ = v.height;
  format_fps_ = v.fps;
  // Mute painting first, then the stamp: a muted frame still carries it.
  mute_ = MuteControl::for_video(preset);
  sent_probe_ = std::make_unique<SentFrameProbe>(preset, options_.latency_stamp);
  if (options_.test_send_delay_ms > 0) {
    // Holds frames until this much is queued: a constant extra delay after
    // the stamp (test only).
    if (GstElement* hold = chain.add("queue", "test-send-delay")) {
      const guint64 d = static_cast<guint64>(options_.test_send_delay_ms) * GST_MSECOND;
      g_object_set(hold, "min-threshold-time", d, "max-size-time", d + GST_SECOND,
                   "max-size-buffers", 0u, "max-size-bytes", 0u, nullptr);
      log()->warn("test hook: sent video delayed by {} ms", options_.test_send_delay_ms);
    }
  }
  // --self-view: the raw frames as they go to the encoder, for a branch
  // (media/self_view.h); the encoder is on the tee's first pad, in the
  // same thread as before.
  if (!options_.output.self_view.empty()) {
    raw_tee_ = chain.add("tee", "video-raw-tee");
    if (raw_tee_) g_object_set(raw_tee_, "allow-not-linked", TRUE, nullptr);
  }
  return Ok{};
}

Status LocalSource::build_audio_chain(ElementChain& chain) {
  const auto& a = options_.audio;
  chain.add("audioconvert", "audio-convert");
  chain.add("audioresample", "audio-resample");
  if (GstElement* cf = chain.add("capsfilter", "audio-preset"))
    set_caps(cf, fmt::format("audio/x-raw,rate={},channels={}", a.rate, a.channels));
  auto processing = AudioProcessing::append(chain, options_, echo_probe_);
  if (!processing) return processing.error();
  processing_ = std::move(*processing);
  // Opus always runs at 48 kHz, whatever the preset asks of the device;
  // the processing chain ends in a resampler, else one goes here.
  if (!processing_ && a.rate != 48000) chain.add("audioresample");
  if (GstElement* ocf = chain.add("capsfilter", "audio-opus-rate"))
    set_caps(ocf, fmt::format("audio/x-raw,rate=48000,channels={}", a.channels));
  GstElement* volume = chain.add("volume", "audio-mute");
  if (!volume) return Error{ExitCode::Config, "cannot build the audio chain"};
  mute_ = MuteControl::for_audio(volume);
  return Ok{};
}

Status LocalSource::build() {
  auto src = build_source();
  if (!src) return src.error();
  const std::string k(to_string(kind_));
  ElementChain chain(pipeline_);
  auto built = kind_ == MediaKind::Video ? build_video_chain(chain) : build_audio_chain(chain);
  if (!built) return built.error();
  auto enc = Encoder::append(chain, codec_, encoder_settings(options_, kind_));
  if (!enc) return enc.error();
  encoder_ = std::move(*enc);
  tee_ = chain.add("tee", (k + "-tee").c_str());
  if (tee_) g_object_set(tee_, "allow-not-linked", TRUE, nullptr);
  if (!chain.ok()) return Error{ExitCode::Config, fmt::format("cannot build the {} chain", k)};

  chain_front_ = chain.front();
  // Every source bin (a replacement too: replace_source) starts with its
  // own segment, the same one (time, from 0) while its frames carry the
  // running time. videorate takes a new segment as a new stream and fills
  // it from 0 with copies (seen: a source swapped in at 11 s made 330
  // extra frames in one burst, and the partner's recording went back in
  // time): a segment equal to the one the chain has is not passed on.
  segment_probe_ = PadProbe(chain_front_, "sink", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &LocalSource::on_segment, this);
  const bool linked = file_ ? file_->link(chain.front())
                            : gst_element_link(capture_->bin(), chain.front());
  if (!linked) return Error{ExitCode::Config, fmt::format("cannot link the {} source", k)};
  return chain.link();
}

GstElement* LocalSource::encoder() const { return encoder_ ? encoder_->element() : nullptr; }

void LocalSource::set_muted(bool muted) {
  if (!mute_ || !mute_->set(muted)) return;
  log()->info("{} {}", to_string(kind_), muted ? "muted" : "unmuted");
  if (kind_ == MediaKind::Video && !muted) request_keyframe();
}

bool LocalSource::muted() const { return mute_ && mute_->muted(); }

uint64_t LocalSource::keyframe_requests() const {
  return encoder_ ? encoder_->keyframe_requests() : 0;
}

uint64_t LocalSource::keyframes_forced() const { return encoder_ ? encoder_->keyframes_forced() : 0; }

uint64_t LocalSource::buffers_encoded() const { return encoder_ ? encoder_->buffers_encoded() : 0; }
uint64_t LocalSource::buffers_to_encoder() const { return encoder_ ? encoder_->buffers_in() : 0; }

void LocalSource::request_keyframe() {
  if (encoder_) encoder_->request_keyframe();
}

int64_t LocalSource::bitrate() const { return encoder_ ? encoder_->bitrate() : 0; }

void LocalSource::set_rate_wish(int owner, const RateWish& wish) {
  wishes_[owner] = wish;
  apply_rate_wishes();
}

void LocalSource::release_rate_wish(int owner) {
  if (wishes_.erase(owner) == 0) return;
  apply_rate_wishes();
}

void LocalSource::apply_rate_wishes() {
  if (!encoder_) return;
  const EncoderSettings preset = encoder_settings(options_, kind_);
  int64_t bps = 0;
  int w = 0, h = 0, fps = 0, loss = -1;
  for (const auto& [owner, x] : wishes_) {
    if (x.bitrate_bps > 0 && (bps == 0 || x.bitrate_bps < bps)) bps = x.bitrate_bps;
    if (x.width > 0 && x.height > 0 && (w == 0 || x.width * x.height < w * h)) {
      w = x.width;
      h = x.height;
    }
    if (x.fps > 0 && (fps == 0 || x.fps < fps)) fps = x.fps;
    loss = std::max(loss, x.loss_percentage);
  }
  // No wish left (the last partner went): back to the preset; never above it.
  if (bps == 0 || bps > int64_t{preset.bitrate_kbps} * 1000) bps = int64_t{preset.bitrate_kbps} * 1000;
  if (bps != encoder_->bitrate() && encoder_->set_bitrate(bps))
    log()->debug("{} encoder: {} kbit/s", to_string(kind_), bps / 1000);
  if (kind_ == MediaKind::Audio && loss >= 0 && loss != loss_percentage_ &&
      encoder_->set_packet_loss_percentage(loss)) {
    loss_percentage_ = loss;
    log()->debug("audio encoder: FEC for {} % loss", loss);
  }
  if (kind_ != MediaKind::Video || !preset_caps_) return;
  const auto& v = options_.video;
  // A wish made before the preset got smaller (set_video_preset) waits for
  // its controller's next one: never above the preset meanwhile.
  if (w * h > v.width * v.height) w = 0;
  if (fps > v.fps) fps = 0;
  if (w == 0) {
    w = v.width;
    h = v.height;
  }
  if (fps == 0) fps = v.fps;
  if (w == format_w_ && h == format_h_ && fps == format_fps_) return;
  log()->info("video: sending {}x{} at {} fps (was {}x{} at {})", w, h, fps, format_w_, format_h_,
              format_fps_);
  format_w_ = w;
  format_h_ = h;
  format_fps_ = fps;
  set_caps(preset_caps_, fmt::format("video/x-raw,format=I420,width={},height={},framerate={}/1,"
                                     "pixel-aspect-ratio=1/1",
                                     w, h, fps));
}

const SourceSpec& LocalSource::source() const {
  return kind_ == MediaKind::Video ? options_.video_source : options_.audio_source;
}

Status LocalSource::replace_source(const SourceSpec& spec) {
  if (spec.type != SourceSpec::Type::None && lost_) {
    log()->info("{} source {}: no longer waited for", to_string(kind_), to_string(*lost_));
    lost_.reset();
    trying_ = false;
    retry_timer_.cancel();
    probation_timer_.cancel();
  }
  return swap_source(spec);
}

GstPadProbeReturn LocalSource::on_segment(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
  auto* self = static_cast<LocalSource*>(data);
  const GstSegment* seg = nullptr;
  gst_event_parse_segment(ev, &seg);
  if (self->have_segment_ && gst_segment_is_equal(seg, &self->segment_)) return GST_PAD_PROBE_DROP;
  gst_segment_copy_into(seg, &self->segment_);
  self->have_segment_ = true;
  return GST_PAD_PROBE_OK;
}

bool LocalSource::owns_source(GstObject* obj) const {
  GstElement* bin = file_ ? file_->bin() : capture_ ? capture_->bin() : nullptr;
  return bin && obj && (obj == GST_OBJECT(bin) || gst_object_has_as_ancestor(obj, GST_OBJECT(bin)));
}

bool LocalSource::on_source_error(const std::string& what) {
  const SourceSpec& now = source();
  if (lost_) {
    if (!trying_) return false;  // the stand-in itself failed
    // The device failed again before its probation ended: still lost.
    back_to_standin(what);
    return true;
  }
  // Only a device that worked: one that fails before its first buffer is
  // bad input (a wrong device, a mode it cannot do) and ends the run with
  // its message, as at start.
  if (!now.is_capture_device() || buffers_to_encoder() == 0) return false;
  lost_ = now;
  log()->warn("{} {} lost ({}): sending {} until it works again", kind_ == MediaKind::Video ? "camera" : "microphone",
              to_string(now), what, kind_ == MediaKind::Video ? "the slate (\"camera unavailable\")" : "silence");
  if (events_.on_device) events_.on_device(kind_, true, to_string(now), what);
  back_to_standin(what);
  return true;
}

void LocalSource::back_to_standin(const std::string& why) {
  trying_ = false;
  probation_timer_.cancel();
  SourceSpec standin;
  standin.type = SourceSpec::Type::Test;
  standin.standin = true;
  if (auto st = swap_source(standin); !st)
    log()->error("{} stand-in: {} (after {})", to_string(kind_), st.error().message, why);
  const auto delay = retry_backoff_.next();
  log()->debug("{} {}: trying it again in {} ms", to_string(kind_), to_string(*lost_), delay.count());
  retry_timer_.start_once(delay, [this] { retry_device(); });
}

void LocalSource::device_added() {
  if (!lost_ || trying_) return;
  log()->info("{}: a device appeared; trying {} now", to_string(kind_), to_string(*lost_));
  retry_timer_.cancel();
  retry_device();
}

void LocalSource::retry_device() {
  if (!lost_ || trying_) return;
  const SourceSpec want = *lost_;
  trying_ = true;
  if (auto st = swap_source(want); !st) {
    // Not even built or started (an error on the bus may follow; it comes
    // from a bin that is gone by then and is ignored).
    back_to_standin(st.error().message);
    return;
  }
  probation_timer_.start_once(kProbationMs, [this] {
    if (!lost_ || !trying_) return;
    log()->info("{} {} is back", kind_ == MediaKind::Video ? "camera" : "microphone", to_string(*lost_));
    const std::string device = to_string(*lost_);
    lost_.reset();
    trying_ = false;
    retry_backoff_.reset();
    if (events_.on_device) events_.on_device(kind_, false, device, "");
  });
}

Status LocalSource::swap_source(const SourceSpec& spec) {
  if (spec.type == SourceSpec::Type::None)
    return Error{ExitCode::Usage, fmt::format("a {} source cannot be switched to none mid-call (mute stops sending)",
                                              to_string(kind_))};
  if (!chain_front_) return Error{ExitCode::Software, "the source chain is not built"};
  // The new bin first, in the pipeline but not linked: if it cannot be
  // made, the old one plays on.
  SourceSpec& slot = kind_ == MediaKind::Video ? options_.video_source : options_.audio_source;
  const SourceSpec old_spec = slot;
  slot = spec;
  std::unique_ptr<CaptureSource> old_capture = std::move(capture_);
  std::unique_ptr<FileSource> old_file = std::move(file_);
  GstElement* old_bin = old_file ? old_file->bin() : old_capture ? old_capture->bin() : nullptr;
  auto made = build_source();
  if (!made) {
    slot = old_spec;
    capture_ = std::move(old_capture);
    file_ = std::move(old_file);
    return made.error();
  }
  if (old_bin) {
    // Stopped before it is unlinked: going to NULL deactivates its pads,
    // which waits for a push in progress, so that no buffer or event of
    // the old source is still on its way through the chain when the new
    // one starts pushing (two streaming threads in the converters at once
    // made a caps change fail: not-negotiated, the pipeline's end).
    gst_element_set_state(old_bin, GST_STATE_NULL);
    g_autoptr(GstPad) out = gst_element_get_static_pad(old_bin, "src");
    g_autoptr(GstPad) peer = out ? gst_pad_get_peer(out) : nullptr;
    if (peer) gst_pad_unlink(out, peer);
  }
  // Their probes go while the old bin is stopped but still ours, then the bin.
  old_file.reset();
  old_capture.reset();
  if (old_bin) gst_bin_remove(pipeline_, old_bin);
  const bool linked = file_ ? file_->link(chain_front_) : gst_element_link(capture_->bin(), chain_front_);
  if (!linked || !gst_element_sync_state_with_parent(*made))
    return Error{ExitCode::Config, fmt::format("cannot start the new {} source {}", to_string(kind_), to_string(spec))};
  log()->info("{} source now {} (was {})", to_string(kind_), to_string(spec), to_string(old_spec));
  return Ok{};
}

void LocalSource::set_video_preset(const VideoPreset& p) {
  if (kind_ != MediaKind::Video) return;
  options_.video = p;
  apply_rate_wishes();
}

void LocalSource::set_audio_bitrate(int kbps) {
  if (kind_ != MediaKind::Audio) return;
  options_.audio.bitrate_kbps = kbps;
  apply_rate_wishes();
}

void LocalSource::set_paused(bool paused) {
  if (sent_probe_) sent_probe_->set_paused(paused);
}

}  // namespace callagent::media
