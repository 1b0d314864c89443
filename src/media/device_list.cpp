#include "media/device_list.h"

#include "common/logging.h"

#include <gst/gst.h>

#include <fmt/format.h>

#include <set>

namespace callagent::media {

namespace {
std::string prop(GstStructure* props, std::initializer_list<const char*> keys) {
  if (!props) return {};
  for (const char* k : keys)
    if (const char* v = gst_structure_get_string(props, k)) return v;
  return {};
}

std::string summarize_caps(GstCaps* caps) {
  if (!caps) return {};
  std::set<std::string> seen;
  std::string out;
  for (guint i = 0; i < gst_caps_get_size(caps) && seen.size() < 12; ++i) {
    const GstStructure* s = gst_caps_get_structure(caps, i);
    std::string item = gst_structure_get_name(s);
    int w = 0, h = 0, rate = 0, ch = 0, fn = 0, fd = 1;
    if (gst_structure_get_int(s, "width", &w) && gst_structure_get_int(s, "height", &h)) {
      item += fmt::format(" {}x{}", w, h);
      if (gst_structure_get_fraction(s, "framerate", &fn, &fd) && fd) item += fmt::format("@{}", fn / fd);
    }
    if (gst_structure_get_int(s, "rate", &rate)) item += fmt::format(" {} Hz", rate);
    if (gst_structure_get_int(s, "channels", &ch)) item += fmt::format(" x{}", ch);
    if (seen.insert(item).second) out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}
}  // namespace

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  g_autoptr(GstDeviceMonitor) mon = gst_device_monitor_new();
  gst_device_monitor_add_filter(mon, "Video/Source", nullptr);
  gst_device_monitor_add_filter(mon, "Audio/Source", nullptr);
  if (!gst_device_monitor_start(mon)) return out;
  g_autolist(GstDevice) devices = gst_device_monitor_get_devices(mon);
  for (GList* l = devices; l; l = l->next) {
    GstDevice* d = GST_DEVICE(l->data);
    DeviceInfo info;
    g_autofree gchar* name = gst_device_get_display_name(d);
    g_autofree gchar* klass = gst_device_get_device_class(d);
    info.name = name ? name : "";
    info.device_class = klass ? klass : "";
    const bool video = info.device_class.find("Video") != std::string::npos;
    info.kind = video ? "camera" : "microphone";
    g_autoptr(GstStructure) props = gst_device_get_properties(d);
    info.path = prop(props, {"device.path", "api.v4l2.path", "api.alsa.path", "object.path",
                             "node.name", "device.name"});
    std::string api = prop(props, {"device.api"});
    if (video && (api == "v4l2" || info.path.rfind("/dev/video", 0) == 0))
      info.source_spec = "v4l2:" + info.path;
    else if (!video && api == "alsa")
      info.source_spec = "alsa:" + info.path;
    else if (!video && api == "pulse")
      info.source_spec = "pulse:" + info.path;
    g_autoptr(GstCaps) caps = gst_device_get_caps(d);
    info.caps_summary = summarize_caps(caps);
    out.push_back(std::move(info));
  }
  gst_device_monitor_stop(mon);
  return out;
}

std::unique_ptr<DeviceWatch> DeviceWatch::start(GMainContext* ctx, std::function<void(bool video)> on_added) {
  std::unique_ptr<DeviceWatch> w(new DeviceWatch());
  w->on_added_ = std::move(on_added);
  w->monitor_ = GRef<GstDeviceMonitor>::adopt(gst_device_monitor_new());
  gst_device_monitor_add_filter(w->monitor_.get(), "Video/Source", nullptr);
  gst_device_monitor_add_filter(w->monitor_.get(), "Audio/Source", nullptr);
  auto bus = GRef<GstBus>::adopt(gst_device_monitor_get_bus(w->monitor_.get()));
  w->watch_.reset(gst_bus_create_watch(bus.get()));
  g_source_set_callback(w->watch_.get(), reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&DeviceWatch::on_message)),
                        w.get(), nullptr);
  g_source_attach(w->watch_.get(), ctx);
  if (!gst_device_monitor_start(w->monitor_.get())) {
    logging::get("media")->debug("device monitor: none could start; a lost device is only retried on a timer");
    return nullptr;
  }
  return w;
}

DeviceWatch::~DeviceWatch() {
  if (watch_) g_source_destroy(watch_.get());
  if (monitor_) gst_device_monitor_stop(monitor_.get());
}

gboolean DeviceWatch::on_message(GstBus*, GstMessage* msg, gpointer self) {
  auto* w = static_cast<DeviceWatch*>(self);
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_DEVICE_ADDED) return G_SOURCE_CONTINUE;
  GstDevice* d = nullptr;
  gst_message_parse_device_added(msg, &d);
  g_autoptr(GstDevice) device = d;
  if (!device) return G_SOURCE_CONTINUE;
  GCharPtr name(gst_device_get_display_name(device));
  const bool video = gst_device_has_classes(device, "Video/Source");
  logging::get("media")->info("device plugged in: {} ({})", name ? name.get() : "?", video ? "camera" : "microphone");
  if (w->on_added_) w->on_added_(video);
  return G_SOURCE_CONTINUE;
}

}  // namespace callagent::media
