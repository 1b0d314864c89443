#pragma once
// Small GStreamer helpers shared by the media and stats layers: RAII
// deleters for GStreamer's C types, element creation with a logged failure,
// graph dumps, and promises whose reply is handled on the main context.

#include "common/gref.h"

#include <functional>
#include <memory>

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>
#include <string_view>

namespace callagent {
CALLAGENT_DEFINE_GDELETER(GstCaps, gst_caps_unref);
CALLAGENT_DEFINE_GDELETER(GstSDPMessage, gst_sdp_message_free);
CALLAGENT_DEFINE_GDELETER(GstPromise, gst_promise_unref);
CALLAGENT_DEFINE_GDELETER(GstStructure, gst_structure_free);
CALLAGENT_DEFINE_GDELETER(GstMessage, gst_message_unref);
CALLAGENT_DEFINE_GDELETER(GstEvent, gst_event_unref);
CALLAGENT_DEFINE_GDELETER(GstSample, gst_sample_unref);
CALLAGENT_DEFINE_GDELETER(GstBuffer, gst_buffer_unref);
}  // namespace callagent

namespace callagent {

// A new element (floating reference, to be added to a bin) or nullptr; the
// failure is logged with the factory name.
GstElement* make_element(const char* factory, const char* name = nullptr);

// Sets a property only if the element has it (elements differ between
// GStreamer versions and between e.g. autovideosink's children).
void set_if_exists(GstElement* e, const char* prop, int value);
void set_if_exists(GstElement* e, const char* prop, bool value);

// "/GstPipeline:callagent/GstBin:peer1/GstWebRTCBin:webrtc" style path.
std::string object_path(GstObject* o);

// Writes `bin` as DOT to DIR/NAME.dot (if dir is not empty); returns the
// file path or "" when not written.
std::string dump_dot(GstBin* bin, const std::string& dir, const std::string& name);

// Adds `e` (floating) to `bin` and brings it to the bin's state (for
// elements added to a running pipeline).
bool add_and_sync(GstBin* bin, GstElement* e);

// Links a chain of elements; logs which link failed.
bool link_many(std::initializer_list<GstElement*> elements);

// A display or playback sink from a --video-sink/--audio-sink value: "auto"
// (autovideosink/autoaudiosink) or a factory name; async=false (it joins a
// playing pipeline), fullscreen where supported and asked. Floating, or
// nullptr (logged).
GstElement* make_sink(const std::string& spec, bool video, bool fullscreen);

// Sets caps of a capsfilter from a string.
void set_caps(GstElement* capsfilter, const std::string& caps);

// Whether an element factory is installed (an optional plugin).
bool have_factory(const char* name);

// A new promise whose reply is handed to `fn` on `ctx`, and only while
// `guard` still lives (webrtcbin settles promises on its own threads). The
// caller owns the returned promise: pass it to the signal, then unref it.
GstPromise* promise_on_context(GMainContext* ctx, std::weak_ptr<void> guard,
                               std::function<void(GstPromise*)> fn);

// Whether a settled promise succeeded; its reply (may be null on success:
// set-*-description replies have no structure) goes to *reply, its error
// text to `error`.
bool promise_ok(GstPromise* p, const GstStructure** reply, std::string& error);

}  // namespace callagent
