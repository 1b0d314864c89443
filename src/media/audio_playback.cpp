#include "media/audio_playback.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

#include <atomic>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

constexpr int kChannels = 2;

std::string next_probe_name() {
  // Probes are found by name in a process-wide list: two engines in one
  // process (the loopback tests) must not share a name.
  static std::atomic<int> counter{0};
  return fmt::format("callagent-echo-probe-{}", ++counter);
}
}  // namespace

std::string AudioPlayback::input_caps() {
  return fmt::format("audio/x-raw,format=S16LE,layout=interleaved,rate={},channels={}",
                     kEchoProbeRate, kChannels);
}

Result<std::unique_ptr<AudioPlayback>> AudioPlayback::create(GstBin* pipeline,
                                                             const MediaOptions& options) {
  std::unique_ptr<AudioPlayback> p(new AudioPlayback(pipeline));
  if (auto st = p->build(options); !st) return st.error();
  return p;
}

AudioPlayback::AudioPlayback(GstBin* pipeline) : pipeline_(pipeline), probe_name_(next_probe_name()) {}

AudioPlayback::~AudioPlayback() = default;  // the elements belong to the pipeline

Status AudioPlayback::build(const MediaOptions& options) {
  // Live with no input at all: the mixer produces silence on the clock, in
  // the format the capsfilter after it asks for (force-live, new in
  // GStreamer 1.22, construct-only). A silent live audiotestsrc as a
  // permanent input did the same for twice the CPU (an idle agent on this
  // machine: 3 % of a core instead of 1.3-1.5 %). Its 10 ms buffers (the
  // default) are webrtcdsp's frame size.
  mixer_ = gst_element_factory_make_full("audiomixer", "name", "playback-mixer", "force-live",
                                         TRUE, nullptr);
  if (!mixer_) log()->error("cannot create GStreamer element 'audiomixer' (force-live)");
  GstElement* probe_caps = make_element("capsfilter", "playback-probe-caps");
  probe_ = make_element("webrtcechoprobe", probe_name_.c_str());
  GstElement* conv = make_element("audioconvert", "playback-convert");
  GstElement* res = make_element("audioresample", "playback-resample");
  sink_ = make_sink(options.output.audio_sink, false, false);
  GstElement* all[] = {mixer_, probe_caps, probe_, conv, res, sink_};
  bool ok = true;
  for (GstElement* e : all) ok &= e != nullptr;
  if (!ok) {
    for (GstElement* e : all)
      if (e) GRef<GstElement>::ref_sink(e).reset();
    mixer_ = probe_ = sink_ = nullptr;
    return Error{ExitCode::Config,
                 fmt::format("cannot build the audio playback path (sink '{}')",
                             options.output.audio_sink)};
  }
  // Partners join a mixer that is already running, and their buffers reach
  // it well after their timestamps. A live aggregator waits only as long as
  // the latency it last computed from its inputs (none at start) and drops
  // what comes later, until the pipeline latency is recomputed (which then
  // also delays everyone already playing). The floor is what a partner's
  // input reports, so a join changes nothing: the jitter buffer
  // (options.latency_ms) plus opusdec's 120 ms (with in-band FEC it
  // declares the longest Opus packet). Measured in the loopback test:
  // without the floor the mixer dropped 4-11 of a joining partner's first
  // 10 ms buffers, with it none.
  const guint64 floor_ns = (static_cast<guint64>(options.latency_ms) + 120) * GST_MSECOND;
  g_object_set(mixer_, "min-upstream-latency", floor_ns, nullptr);
  set_caps(probe_caps, input_caps());
  // A playback device renders on the clock; fakesink (tests, headless
  // runs) does not by default. Standing in for a device it should, so the
  // probe sees the mix at a device's pace and lead.
  set_if_exists(sink_, "sync", true);

  for (GstElement* e : all) gst_bin_add(pipeline_, e);
  if (!link_many({mixer_, probe_caps, probe_, conv, res, sink_}))
    return Error{ExitCode::Config, "cannot link the audio playback path"};
  log()->info("audio playback: one mixer -> echo probe {} -> {} for all partners", probe_name_,
              options.output.audio_sink);
  return Ok{};
}

GstPad* AudioPlayback::link_input(GstPad* src) {
  GstPad* pad = gst_element_request_pad_simple(mixer_, "sink_%u");
  if (!pad) {
    log()->error("audio playback: the mixer gave no input pad");
    return nullptr;
  }
  if (GstPadLinkReturn r = gst_pad_link(src, pad); r != GST_PAD_LINK_OK) {
    log()->error("audio playback: cannot link {} to the mixer: {}", object_path(GST_OBJECT(src)),
                 gst_pad_link_get_name(r));
    gst_element_release_request_pad(mixer_, pad);
    GRef<GstPad>::adopt(pad).reset();
    return nullptr;
  }
  log()->debug("audio playback: {} -> {}", object_path(GST_OBJECT(src)), GST_PAD_NAME(pad));
  return pad;
}

void AudioPlayback::release_input(GstPad* src, GstPad* mixer_pad) {
  if (!mixer_pad) return;
  if (src) gst_pad_unlink(src, mixer_pad);
  // GstAggregator's release flushes the pad (a push waiting for room in it
  // returns FLUSHING), removes it and recomputes the latency from the
  // inputs left; being live, the mixer never waited for this input's data.
  gst_element_release_request_pad(mixer_, mixer_pad);
  log()->debug("audio playback: released {}", GST_PAD_NAME(mixer_pad));
}

}  // namespace callagent::media
