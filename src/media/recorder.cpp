#include "media/recorder.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

#include <sys/stat.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

Result<std::unique_ptr<Recorder>> Recorder::create(GstBin* parent, const std::string& path,
                                                   const Kinds& kinds) {
  std::unique_ptr<Recorder> r(new Recorder());
  r->parent_ = parent;
  r->path_ = path;
  r->ctx_ = thread_default_context();

  const bool webm = path.size() > 5 && path.substr(path.size() - 5) == ".webm";
  // Ours until it is added to `parent`.
  auto bin_ref = GRef<GstElement>::ref_sink(gst_bin_new(nullptr));
  GstElement* bin = bin_ref.get();
  GstElement* mux = make_element(webm ? "webmmux" : "matroskamux", nullptr);
  GstElement* sink = make_element("filesink", nullptr);
  if (!mux || !sink) {
    for (GstElement* e : {mux, sink})
      if (e) GRef<GstElement>::ref_sink(e).reset();
    return Error{ExitCode::Config, "cannot create matroskamux/filesink"};
  }
  // Timestamps are RTP-derived running times: start the file at zero.
  g_object_set(mux, "offset-to-zero", TRUE, "max-cluster-duration", G_GINT64_CONSTANT(1000000000),
               "writing-app", "callagent", nullptr);
  g_object_set(sink, "location", path.c_str(), "sync", FALSE, "async", FALSE, nullptr);
  gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");
  gst_bin_add_many(GST_BIN(bin), mux, sink, nullptr);
  gst_element_link(mux, sink);

  auto add_input = [&](MediaKind kind) -> GstPad* {
    GstElement* q = make_element("queue", nullptr);
    // Up to 3 s: a muxer that waits for the other stream must not block
    // the depayloader (and with it the partner's whole receive path).
    g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(3000000000), nullptr);
    gst_bin_add(GST_BIN(bin), q);
    GstElement* last = q;
    if (kind == MediaKind::Audio) {
      GstElement* parse = make_element("opusparse", nullptr);
      if (parse) {
        gst_bin_add(GST_BIN(bin), parse);
        gst_element_link(q, parse);
        last = parse;
      }
    } else if (kinds.video_encoding == "H264") {
      // avc3: SPS/PPS in band, before every IDR. A resolution change brings
      // a new SPS; with avc1 it would have to go into the track header
      // (codec_data), which matroskamux cannot change once written.
      GstElement* parse = make_element("h264parse", nullptr);
      GstElement* cf = make_element("capsfilter", nullptr);
      if (parse && cf) {
        g_object_set(parse, "config-interval", -1, nullptr);
        set_caps(cf, "video/x-h264,stream-format=avc3,alignment=au");
        gst_bin_add_many(GST_BIN(bin), parse, cf, nullptr);
        link_many({q, parse, cf});
        last = cf;
      }
    }
    auto mux_pad = GRef<GstPad>::adopt(
        gst_element_request_pad_simple(mux, kind == MediaKind::Video ? "video_%u" : "audio_%u"));
    auto src = GRef<GstPad>::adopt(gst_element_get_static_pad(last, "src"));
    if (kind == MediaKind::Video)
      gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Recorder::on_video_caps,
                        r.get(), nullptr);
    if (!mux_pad || gst_pad_link(src.get(), mux_pad.get()) != GST_PAD_LINK_OK) return nullptr;
    auto target = GRef<GstPad>::adopt(gst_element_get_static_pad(q, "sink"));
    GstPad* g = gst_ghost_pad_new(kind == MediaKind::Video ? "video_sink" : "audio_sink", target.get());
    // The recorder outlives its bin's data flow (remove() / the peer's NULL
    // state come before its destruction).
    gst_pad_set_element_private(g, r.get());
    gst_pad_set_chain_function(g, &Recorder::guarded_chain);
    gst_pad_set_chain_list_function(g, &Recorder::guarded_chain_list);
    gst_element_add_pad(bin, g);
    return g;  // the bin's (borrowed)
  };
  if (kinds.video) r->video_pad_ = add_input(MediaKind::Video);
  if (kinds.audio) r->audio_pad_ = add_input(MediaKind::Audio);
  if ((kinds.video && !r->video_pad_) || (kinds.audio && !r->audio_pad_))
    return Error{ExitCode::Software, "cannot link the recorder's muxer"};
  auto sp = GRef<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_add_probe(sp.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Recorder::on_sink_eos, r.get(),
                    nullptr);

  r->bin_ = bin;
  gst_bin_add(parent, bin);
  if (!gst_element_sync_state_with_parent(bin))
    return Error{ExitCode::CantCreate, fmt::format("cannot open '{}' for writing", path)};
  r->file_intact();  // notes the file's identity
  log()->info("recording to {} ({}{}{})", path, kinds.video ? kinds.video_encoding : "",
              kinds.video && kinds.audio ? " + " : "", kinds.audio ? "Opus" : "");
  return r;
}

Recorder::~Recorder() = default;  // bin_ belongs to parent_; the peer tears it down

GstFlowReturn Recorder::guarded_chain(GstPad* pad, GstObject* parent, GstBuffer* buf) {
  auto* self = static_cast<Recorder*>(gst_pad_get_element_private(pad));
  if (self->failed_.load()) {
    gst_buffer_unref(buf);
    return GST_FLOW_OK;
  }
  GstFlowReturn r = gst_proxy_pad_chain_default(pad, parent, buf);
  if (r == GST_FLOW_OK) return r;
  // FLUSHING / EOS while we stop, ERROR / NOT_NEGOTIATED when the file
  // fails: the partner's receive path goes on regardless.
  if (r != GST_FLOW_FLUSHING && r != GST_FLOW_EOS) self->failed_.store(true);
  return GST_FLOW_OK;
}

GstFlowReturn Recorder::guarded_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) {
  auto* self = static_cast<Recorder*>(gst_pad_get_element_private(pad));
  if (self->failed_.load()) {
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  GstFlowReturn r = gst_proxy_pad_chain_list_default(pad, parent, list);
  if (r == GST_FLOW_OK) return r;
  if (r != GST_FLOW_FLUSHING && r != GST_FLOW_EOS) self->failed_.store(true);
  return GST_FLOW_OK;
}

bool Recorder::owns(GstObject* o) const {
  return o && bin_ && (o == GST_OBJECT(bin_) || gst_object_has_as_ancestor(o, GST_OBJECT(bin_)));
}

void Recorder::unlink_input(GstPad* ghost) {
  if (!ghost) return;
  if (auto peer = GRef<GstPad>::adopt(gst_pad_get_peer(ghost))) {
    auto up = GRef<GstElement>::adopt(gst_pad_get_parent_element(peer.get()));
    gst_pad_unlink(peer.get(), ghost);
    if (up && GST_PAD_TEMPLATE_PRESENCE(GST_PAD_PAD_TEMPLATE(peer.get())) == GST_PAD_REQUEST)
      gst_element_release_request_pad(up.get(), peer.get());
  }
}

void Recorder::remove() {
  if (!bin_) return;
  failed_.store(true);
  unlink_input(video_pad_);
  unlink_input(audio_pad_);
  video_pad_ = audio_pad_ = nullptr;
  gst_element_set_locked_state(bin_, TRUE);
  gst_element_set_state(bin_, GST_STATE_NULL);
  gst_bin_remove(parent_, bin_);  // drops the bin
  bin_ = nullptr;
  finished_ = true;
  if (auto done = std::exchange(done_, nullptr)) post(ctx_, lifetime_, std::move(done));
}

bool Recorder::file_intact() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return dev_ == 0;  // not created yet, or removed
  if (dev_ == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    return true;
  }
  return st.st_dev == dev_ && st.st_ino == ino_;
}

GstPad* Recorder::sink_pad(MediaKind kind) const {
  return kind == MediaKind::Video ? video_pad_ : audio_pad_;
}

GstCaps* Recorder::continued_caps(const GstCaps* first, const GstCaps* next) {
  // The fields matroskamux lets change after its header (check_field() in
  // matroska-mux.c: VP8/VP9 and H.264 avc3 carry them in the bitstream).
  // Everything else stays as it was: the track header is written once.
  static constexpr const char* kMayChange[] = {"width", "height", "profile", "level",
                                               "tier",  "codec_data", "streamheader"};
  GUnique<GstCaps> out(gst_caps_copy(first));
  GstStructure* o = gst_caps_get_structure(out.get(), 0);
  const GstStructure* n = gst_caps_get_structure(next, 0);
  if (!gst_structure_has_name(n, gst_structure_get_name(o)))
    return gst_caps_copy(next);  // another codec: nothing to preserve (the muxer refuses it)
  for (const char* f : kMayChange) {
    if (const GValue* v = gst_structure_get_value(n, f))
      gst_structure_set_value(o, f, v);
    else
      gst_structure_remove_field(o, f);
  }
  return out.release();
}

GstPadProbeReturn Recorder::on_video_caps(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Recorder*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(ev, &caps);
  // Streaming thread; only this probe touches first_video_caps_.
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  int w = 0, h = 0;
  gst_structure_get_int(s, "width", &w);
  gst_structure_get_int(s, "height", &h);
  if (!self->first_video_caps_) {
    self->first_video_caps_.reset(gst_caps_copy(caps));
    self->video_width_ = w;
    self->video_height_ = h;
    return GST_PAD_PROBE_OK;
  }
  GUnique<GstCaps> cont(continued_caps(self->first_video_caps_.get(), caps));
  if ((w || h) && (w != self->video_width_ || h != self->video_height_)) {
    log()->info("recording {}: the remote video changes from {}x{} to {}x{}", self->path_,
                self->video_width_, self->video_height_, w, h);
    self->video_width_ = w;
    self->video_height_ = h;
  }
  GstEvent* replaced = gst_event_new_caps(cont.get());
  gst_event_set_seqnum(replaced, gst_event_get_seqnum(ev));
  gst_event_unref(ev);
  GST_PAD_PROBE_INFO_DATA(info) = replaced;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Recorder::on_sink_eos(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Recorder*>(data);
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS &&
      !self->eos_seen_.exchange(true)) {
    post(self->ctx_, self->lifetime_, [self] {
      self->finished_ = true;
      log()->info("recording {} complete", self->path_);
      if (auto done = std::exchange(self->done_, nullptr)) done();
    });
  }
  return GST_PAD_PROBE_OK;
}

void Recorder::send_eos(GstPad* ghost) {
  if (!ghost) return;
  // Stop the data first: a tee pad pushing after our EOS would get
  // FLOW_EOS back and could stop the partner's receive path.
  unlink_input(ghost);
  gst_pad_send_event(ghost, gst_event_new_eos());
}

void Recorder::end_missing(MediaKind kind) {
  GstPad* p = sink_pad(kind);
  if (p && !gst_pad_is_linked(p)) {
    log()->info("no remote {} arrived; recording {} without it", to_string(kind), path_);
    gst_pad_send_event(p, gst_event_new_eos());
  }
}

void Recorder::finish(std::function<void()> done) {
  if (finished_) {
    if (done) done();
    return;
  }
  done_ = std::move(done);
  if (finishing_) return;
  finishing_ = true;
  send_eos(video_pad_);
  send_eos(audio_pad_);
}

}  // namespace callagent::media
