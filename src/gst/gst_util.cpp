#include "gst/gst_util.h"

#include "common/logging.h"
#include "common/main_context.h"

#include <fstream>

namespace callagent {

GstElement* make_element(const char* factory, const char* name) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (!e) logging::get("media")->error("cannot create GStreamer element '{}'", factory);
  return e;
}

void set_if_exists(GstElement* e, const char* prop, int value) {
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop);
  if (!ps) return;
  if (G_IS_PARAM_SPEC_ENUM(ps) || G_IS_PARAM_SPEC_INT(ps))
    g_object_set(e, prop, value, nullptr);
  else if (G_IS_PARAM_SPEC_UINT(ps))
    g_object_set(e, prop, static_cast<guint>(value), nullptr);
  else if (G_IS_PARAM_SPEC_INT64(ps))
    g_object_set(e, prop, static_cast<gint64>(value), nullptr);
  else if (G_IS_PARAM_SPEC_UINT64(ps))
    g_object_set(e, prop, static_cast<guint64>(value), nullptr);
}

void set_if_exists(GstElement* e, const char* prop, bool value) {
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop);
  if (ps && G_IS_PARAM_SPEC_BOOLEAN(ps)) g_object_set(e, prop, value ? TRUE : FALSE, nullptr);
}

std::string object_path(GstObject* o) {
  if (!o) return "(unknown)";
  GCharPtr p(gst_object_get_path_string(o));
  return p ? p.get() : "(unknown)";
}

std::string dump_dot(GstBin* bin, const std::string& dir, const std::string& name) {
  if (dir.empty() || !bin) return {};
  GCharPtr dot(gst_debug_bin_to_dot_data(bin, GST_DEBUG_GRAPH_SHOW_ALL));
  std::string path = dir + "/" + name + ".dot";
  std::ofstream f(path);
  if (!f) {
    logging::get("media")->warn("cannot write pipeline graph to {}", path);
    return {};
  }
  f << dot.get();
  f.close();
  // An SVG next to it when graphviz is installed; dot runs detached (GLib
  // reaps it) so a large graph does not stall the main loop.
  if (GCharPtr prog{g_find_program_in_path("dot")}) {
    std::string svg = dir + "/" + name + ".svg";
    const gchar* argv[] = {prog.get(), "-Tsvg", "-o", svg.c_str(), path.c_str(), nullptr};
    GError* err = nullptr;
    if (!g_spawn_async(nullptr, const_cast<gchar**>(argv), nullptr,
                       GSpawnFlags(G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL), nullptr,
                       nullptr, nullptr, &err)) {
      logging::get("media")->debug("graphviz dot failed: {}", err ? err->message : "?");
      if (err) g_error_free(err);
    }
  }
  return path;
}

bool add_and_sync(GstBin* bin, GstElement* e) {
  if (!e) return false;
  if (!gst_bin_add(bin, e)) return false;
  return gst_element_sync_state_with_parent(e);
}

bool link_many(std::initializer_list<GstElement*> elements) {
  GstElement* prev = nullptr;
  for (GstElement* e : elements) {
    if (prev && !gst_element_link(prev, e)) {
      logging::get("media")->error("cannot link {} to {}", GST_ELEMENT_NAME(prev),
                                   GST_ELEMENT_NAME(e));
      return false;
    }
    prev = e;
  }
  return true;
}

GstElement* make_sink(const std::string& spec, bool video, bool fullscreen) {
  std::string factory =
      spec == "auto" ? (video ? "autovideosink" : "autoaudiosink") : spec;
  GstElement* sink = make_element(factory.c_str(), nullptr);
  if (!sink) return nullptr;
  // Added to a playing pipeline: must not wait for preroll (a sink added
  // later never prerolls; docs/measurements.md, "Receiving in webrtcbin").
  set_if_exists(sink, "async", false);
  if (fullscreen) set_if_exists(sink, "fullscreen", true);
  if (GST_IS_BIN(sink)) {
    // auto*sink makes its real sink on NULL->READY; configure that one.
    gst_element_set_state(sink, GST_STATE_READY);
    GstIterator* it = gst_bin_iterate_sinks(GST_BIN(sink));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
      auto* child = GST_ELEMENT(g_value_get_object(&v));
      set_if_exists(child, "async", false);
      if (fullscreen) set_if_exists(child, "fullscreen", true);
      g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
  }
  return sink;
}

void set_caps(GstElement* capsfilter, const std::string& caps) {
  GstCaps* c = gst_caps_from_string(caps.c_str());
  g_object_set(capsfilter, "caps", c, nullptr);
  gst_caps_unref(c);
}

bool have_factory(const char* name) {
  g_autoptr(GstElementFactory) f = gst_element_factory_find(name);
  return f != nullptr;
}

namespace {
struct PromiseTarget {
  GMainContext* ctx;
  std::weak_ptr<void> guard;
  std::function<void(GstPromise*)> fn;
};

void on_promise_changed(GstPromise* p, gpointer data) {
  auto* t = static_cast<PromiseTarget*>(data);
  std::shared_ptr<GstPromise> keep(gst_promise_ref(p), gst_promise_unref);
  auto fn = t->fn;
  post(t->ctx, t->guard, [keep, fn] { fn(keep.get()); });
}
}  // namespace

GstPromise* promise_on_context(GMainContext* ctx, std::weak_ptr<void> guard,
                               std::function<void(GstPromise*)> fn) {
  auto* target = new PromiseTarget{ctx, std::move(guard), std::move(fn)};
  return gst_promise_new_with_change_func(&on_promise_changed, target,
                                          [](gpointer d) { delete static_cast<PromiseTarget*>(d); });
}

bool promise_ok(GstPromise* p, const GstStructure** reply, std::string& error) {
  *reply = nullptr;
  GstPromiseResult r = gst_promise_wait(p);  // already settled: returns at once
  if (r != GST_PROMISE_RESULT_REPLIED) {
    error = "promise interrupted or expired";
    return false;
  }
  const GstStructure* s = gst_promise_get_reply(p);
  if (s && gst_structure_has_field(s, "error")) {
    GErrorPtr e;
    GError* raw = nullptr;
    gst_structure_get(s, "error", G_TYPE_ERROR, &raw, nullptr);
    e.reset(raw);
    error = e ? e->message : "unknown error";
    return false;
  }
  *reply = s;
  return true;
}

}  // namespace callagent
