#include "media/dtls_warmup.h"

#include "common/logging.h"

#include <gst/gst.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

DtlsWarmup::DtlsWarmup() {
  thread_ = std::thread([] {
    const gint64 t0 = g_get_monotonic_time();
    // webrtcbin first: its plugin pulls in nice and the srtp/dtls ones.
    if (GstElement* w = gst_element_factory_make("webrtcbin", nullptr)) gst_object_unref(gst_object_ref_sink(w));
    GstElement* dec = gst_element_factory_make("dtlsdec", nullptr);
    if (!dec) {
      log()->debug("no dtlsdec to make the DTLS certificate with ahead of time");
      return;
    }
    gst_object_unref(gst_object_ref_sink(dec));
    log()->debug("DTLS certificate ready ({} ms, ahead of the first peer connection)",
                 (g_get_monotonic_time() - t0) / 1000);
  });
}

DtlsWarmup::~DtlsWarmup() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace callagent::media
