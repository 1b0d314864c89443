#include "media/file_source.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

#include <cstring>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

GstClockTime running_time_now(GstElement* e) {
  g_autoptr(GstClock) clock = gst_element_get_clock(e);
  if (!clock) return 0;
  GstClockTime now = gst_clock_get_time(clock);
  GstClockTime base = gst_element_get_base_time(e);
  return now > base ? now - base : 0;
}

// uridecodebin's autoplug-select: decode only our kind, skip decoders of
// the other kind.
int skip_other_kind(GstElement*, GstPad*, GstCaps*, GstElementFactory* f, gpointer data) {
  auto kind = static_cast<MediaKind>(GPOINTER_TO_INT(data));
  const char* klass = gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS);
  bool decoder = klass && strstr(klass, "Decoder");
  bool video = klass && (strstr(klass, "Video") || strstr(klass, "Image"));
  bool audio = klass && strstr(klass, "Audio");
  if (decoder && ((kind == MediaKind::Audio && video && !audio) ||
                  (kind == MediaKind::Video && audio && !video)))
    return 2;  // GST_AUTOPLUG_SELECT_SKIP
  return 0;    // GST_AUTOPLUG_SELECT_TRY
}

// What uridecodebin's pad-added (a streaming thread) needs; owned by the
// signal connection (freed with the decoder).
struct PadAdded {
  GstElement* bin;   // the file bin, owner of conv
  GstElement* conv;
  GstClockTime offset;
  MediaKind kind;
};

void on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  auto* c = static_cast<PadAdded*>(data);
  GUnique<GstCaps> pc(gst_pad_get_current_caps(pad));
  if (!pc) pc.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* st = pc && !gst_caps_is_empty(pc.get()) && !gst_caps_is_any(pc.get())
                               ? gst_caps_get_structure(pc.get(), 0)
                               : nullptr;
  bool ours = st && gst_structure_has_name(st, c->kind == MediaKind::Video ? "video/x-raw"
                                                                          : "audio/x-raw");
  g_autoptr(GstPad) sink = gst_element_get_static_pad(c->conv, "sink");
  if (ours && !gst_pad_is_linked(sink)) {
    gst_pad_set_offset(pad, static_cast<gint64>(c->offset));
    if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
      log()->error("cannot link the decoded file stream");
    return;
  }
  // Another stream (or a second one of our kind): consumed here.
  GstElement* drop = gst_element_factory_make("fakesink", nullptr);
  g_object_set(drop, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(c->bin), drop);
  gst_element_sync_state_with_parent(drop);
  g_autoptr(GstPad) dsink = gst_element_get_static_pad(drop, "sink");
  gst_pad_link(pad, dsink);
}
}  // namespace

Result<std::unique_ptr<FileSource>> FileSource::create(GstBin* pipeline, MediaKind kind,
                                                       const SourceSpec& spec,
                                                       std::function<void()> on_end) {
  std::unique_ptr<FileSource> s(new FileSource(pipeline, kind, spec, std::move(on_end)));
  if (auto st = s->add_bin(); !st) return st.error();
  return s;
}

FileSource::FileSource(GstBin* pipeline, MediaKind kind, const SourceSpec& spec,
                       std::function<void()> on_end)
    : pipeline_(pipeline),
      kind_(kind),
      spec_(spec),
      on_end_(std::move(on_end)),
      ctx_(thread_default_context()) {}

Status FileSource::add_bin() {
  if (!g_file_test(spec_.device.c_str(), G_FILE_TEST_IS_REGULAR))
    return Error{ExitCode::NoInput, fmt::format("{} source file '{}' does not exist or is not a "
                                                "regular file",
                                                to_string(kind_), spec_.device)};
  GError* raw = nullptr;
  GCharPtr uri(gst_filename_to_uri(spec_.device.c_str(), &raw));
  GErrorPtr err(raw);
  if (!uri) return Error{ExitCode::NoInput, fmt::format("bad file name '{}'", spec_.device)};

  ++generation_;
  auto bin = GRef<GstElement>::ref_sink(
      gst_bin_new(fmt::format("{}-file-{}", to_string(kind_), generation_).c_str()));
  GstElement* dec = make_element("uridecodebin", nullptr);
  GstElement* conv = make_element(kind_ == MediaKind::Video ? "videoconvert" : "audioconvert");
  // A file is not live: clocksync paces it to the pipeline clock, else it
  // would be pushed into webrtcbin as fast as it decodes.
  GstElement* sync = make_element("clocksync", nullptr);
  // Into the bin at once, so that it owns them even on the error path.
  for (GstElement* e : {dec, conv, sync})
    if (e) gst_bin_add(GST_BIN(bin.get()), e);
  if (!dec || !conv || !sync)
    return Error{ExitCode::Config, "cannot create uridecodebin/clocksync"};
  GUnique<GstCaps> caps(
      gst_caps_from_string(kind_ == MediaKind::Video ? "video/x-raw(ANY)" : "audio/x-raw(ANY)"));
  g_object_set(dec, "uri", uri.get(), "caps", caps.get(), "expose-all-streams", FALSE, nullptr);
  gst_element_link(conv, sync);
  {
    g_autoptr(GstPad) target = gst_element_get_static_pad(sync, "src");
    gst_element_add_pad(bin.get(), gst_ghost_pad_new("src", target));
  }

  g_signal_connect(dec, "autoplug-select", G_CALLBACK(skip_other_kind),
                   GINT_TO_POINTER(static_cast<int>(kind_)));
  auto* pctx = new PadAdded{bin.get(), conv, running_time_now(GST_ELEMENT(pipeline_)), kind_};
  g_signal_connect_data(
      dec, "pad-added", G_CALLBACK(on_pad_added), pctx,
      +[](gpointer data, GClosure*) { delete static_cast<PadAdded*>(data); }, GConnectFlags(0));

  output_probe_ = PadProbe(bin.get(), "src", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                           &FileSource::on_output_probe, this);
  eos_posted_ = false;
  bin_ = bin.get();
  gst_bin_add(pipeline_, bin_);
  return Ok{};
}

bool FileSource::link(GstElement* downstream) {
  downstream_ = downstream;
  return gst_element_link(bin_, downstream_);
}

GstPadProbeReturn FileSource::on_output_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<FileSource*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  // The encoder and the peers must never see EOS: they outlive the file.
  if (!self->eos_posted_.exchange(true))
    post(self->ctx_, self->lifetime_, [self] { self->on_eos(); });
  return GST_PAD_PROBE_DROP;
}

void FileSource::on_eos() {
  if (spec_.loop) {
    log()->info("{} file reached its end, looping", to_string(kind_));
    restart();
    return;
  }
  log()->info("{} file reached its end", to_string(kind_));
  if (on_end_) on_end_();
}

void FileSource::restart() {
  GstElement* old = bin_;
  {
    g_autoptr(GstPad) out = gst_element_get_static_pad(old, "src");
    g_autoptr(GstPad) peer = gst_pad_get_peer(out);
    if (peer) gst_pad_unlink(out, peer);
  }
  if (gst_element_set_state(old, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE)
    log()->warn("{} file: the finished decoder did not stop cleanly", to_string(kind_));
  output_probe_.reset();
  gst_bin_remove(pipeline_, old);
  bin_ = nullptr;
  if (auto st = add_bin(); !st) {
    log()->error("cannot restart the {} file: {}", to_string(kind_), st.error().message);
    if (on_end_) on_end_();
    return;
  }
  if (!gst_element_link(bin_, downstream_))
    log()->error("cannot link the reopened {} file", to_string(kind_));
  gst_element_sync_state_with_parent(bin_);
}

}  // namespace callagent::media
