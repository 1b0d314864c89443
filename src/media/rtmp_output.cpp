#include "media/rtmp_output.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

const char* aac_encoder() {
  for (const char* f : {"fdkaacenc", "avenc_aac", "voaacenc"})
    if (have_factory(f)) return f;
  return "avenc_aac";
}

// The output's ghost sink pads swallow its flow errors: a failing rtmp2sink
// returns FLOW_ERROR up through the queue, and a tee passes an error on to
// its upstream, which would stop the partner's whole receive path (measured:
// "Internal data stream error" in webrtcbin's nicesrc). The bus error still
// arrives and restarts the output.
GstFlowReturn firewall_chain(GstPad* pad, GstObject* parent, GstBuffer* buf) {
  GstFlowReturn r = gst_proxy_pad_chain_default(pad, parent, buf);
  return r == GST_FLOW_OK || r == GST_FLOW_NOT_LINKED ? r : GST_FLOW_OK;
}
GstFlowReturn firewall_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) {
  GstFlowReturn r = gst_proxy_pad_chain_list_default(pad, parent, list);
  return r == GST_FLOW_OK || r == GST_FLOW_NOT_LINKED ? r : GST_FLOW_OK;
}

// A URL for logs: rtmp://host/app/<key> with the stream key cut short.
std::string safe_url(const std::string& url) {
  auto slash = url.rfind('/');
  if (slash == std::string::npos || slash + 1 >= url.size()) return url;
  return url.substr(0, slash + 1) + logging::redact(url.substr(slash + 1));
}
}  // namespace

RtmpOutput::RtmpOutput(GstBin* parent, std::string url, bool video, bool audio, int fps)
    : parent_(parent), url_(std::move(url)), want_video_(video), want_audio_(audio), fps_(fps) {
  std::lock_guard lock(mutex_);
  if (!build_locked()) log()->error("cannot build the RTMP output");
}

RtmpOutput::~RtmpOutput() {
  restart_timer_.cancel();
  std::lock_guard lock(mutex_);
  teardown_locked();
}

bool RtmpOutput::build_locked() {
  // Ours until it is added to parent_.
  auto bin_ref = GRef<GstElement>::ref_sink(gst_bin_new(nullptr));
  GstElement* bin = bin_ref.get();
  GstElement* mux = make_element("flvmux", nullptr);
  GstElement* sink = make_element("rtmp2sink", nullptr);
  if (!mux || !sink) {
    for (GstElement* e : {mux, sink})
      if (e) GRef<GstElement>::ref_sink(e).reset();
    return false;
  }
  g_object_set(mux, "streamable", TRUE, nullptr);
  g_object_set(sink, "location", url_.c_str(), "async", FALSE, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(bin), mux, sink, nullptr);
  gst_element_link(mux, sink);
  auto leaky_queue = [] {
    GstElement* q = make_element("queue", nullptr);
    g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(1000000000), nullptr);
    gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
    return q;
  };
  auto add_branch = [&](MediaKind kind) -> bool {
    std::vector<GstElement*> chain;
    chain.push_back(leaky_queue());
    if (kind == MediaKind::Video) {
      chain.push_back(make_element("videoconvert"));
      GstElement* enc = make_element("x264enc");
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        g_object_set(enc, "bitrate", 2500, "key-int-max", 2 * fps_, nullptr);
      }
      chain.push_back(enc);
      GstElement* cf = make_element("capsfilter");
      if (cf) set_caps(cf, "video/x-h264,profile=baseline");
      chain.push_back(cf);
      chain.push_back(make_element("h264parse"));
    } else {
      chain.push_back(make_element("audioconvert"));
      chain.push_back(make_element("audioresample"));
      GstElement* cf = make_element("capsfilter");
      if (cf) set_caps(cf, "audio/x-raw,rate=44100");
      chain.push_back(cf);
      chain.push_back(make_element(aac_encoder()));
      chain.push_back(make_element("aacparse"));
    }
    for (auto* e : chain)
      if (!e) return false;
    for (auto* e : chain) gst_bin_add(GST_BIN(bin), e);
    for (size_t i = 1; i < chain.size(); ++i)
      if (!gst_element_link(chain[i - 1], chain[i])) return false;
    g_autoptr(GstPad) mp = gst_element_request_pad_simple(mux, kind == MediaKind::Video ? "video" : "audio");
    g_autoptr(GstPad) last = gst_element_get_static_pad(chain.back(), "src");
    bool ok = mp && gst_pad_link(last, mp) == GST_PAD_LINK_OK;
    g_autoptr(GstPad) first = gst_element_get_static_pad(chain.front(), "sink");
    GstPad* g = gst_ghost_pad_new(kind == MediaKind::Video ? "video_sink" : "audio_sink", first);
    gst_pad_set_chain_function(g, firewall_chain);
    gst_pad_set_chain_list_function(g, firewall_chain_list);
    gst_element_add_pad(bin, g);
    return ok;
  };
  if ((want_video_ && !add_branch(MediaKind::Video)) ||
      (want_audio_ && !add_branch(MediaKind::Audio)))
    return false;
  bin_ = bin;
  gst_bin_add(parent_, bin_);
  gst_element_sync_state_with_parent(bin_);
  started_ = std::chrono::steady_clock::now();
  if (video_.tee) link_locked(MediaKind::Video);
  if (audio_.tee) link_locked(MediaKind::Audio);
  log()->info("RTMP output to {}", safe_url(url_));
  return true;
}

void RtmpOutput::link_locked(MediaKind kind) {
  Input& in = kind == MediaKind::Video ? video_ : audio_;
  if (!bin_ || !in.tee || in.tee_pad) return;
  g_autoptr(GstPad) ghost =
      gst_element_get_static_pad(bin_, kind == MediaKind::Video ? "video_sink" : "audio_sink");
  if (!ghost) return;
  in.tee_pad = GRef<GstPad>::adopt(gst_element_request_pad_simple(in.tee, "src_%u"));
  if (gst_pad_link(in.tee_pad.get(), ghost) != GST_PAD_LINK_OK)
    log()->error("cannot link the RTMP {} input", to_string(kind));
}

void RtmpOutput::teardown_locked() {
  for (Input* in : {&video_, &audio_}) {
    if (!in->tee_pad) continue;
    g_autoptr(GstPad) peer = gst_pad_get_peer(in->tee_pad.get());
    if (peer) gst_pad_unlink(in->tee_pad.get(), peer);
    gst_element_release_request_pad(in->tee, in->tee_pad.get());
    in->tee_pad.reset();
  }
  if (bin_) {
    gst_element_set_state(bin_, GST_STATE_NULL);
    gst_bin_remove(parent_, bin_);
    bin_ = nullptr;
  }
}

void RtmpOutput::link_input(MediaKind kind, GstElement* tee) {
  std::lock_guard lock(mutex_);
  (kind == MediaKind::Video ? video_ : audio_).tee = tee;
  link_locked(kind);
}

bool RtmpOutput::owns(GstObject* o) const {
  std::lock_guard lock(mutex_);
  return bin_ && o && (o == GST_OBJECT(bin_) || gst_object_has_as_ancestor(o, GST_OBJECT(bin_)));
}

void RtmpOutput::on_error(GstMessage* msg) {
  g_autoptr(GError) e = nullptr;
  gst_message_parse_error(msg, &e, nullptr);
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !bin_) {
      log()->warn("RTMP output failed ({}): {}", object_path(GST_MESSAGE_SRC(msg)), e ? e->message : "?");
      return;
    }
    if (std::chrono::steady_clock::now() - started_ > std::chrono::minutes(1)) backoff_.reset();
    delay = backoff_.next();
    teardown_locked();
  }
  log()->warn("RTMP output failed ({}): {}; retrying in {} s", object_path(GST_MESSAGE_SRC(msg)),
              e ? e->message : "?", delay.count() / 1000.0);
  restart_timer_.start_once(delay, [this] {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    restarts_.fetch_add(1);
    if (!build_locked()) log()->error("cannot rebuild the RTMP output");
  });
}

void RtmpOutput::stop() {
  restart_timer_.cancel();
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

}  // namespace callagent::media
