#pragma once
// RAII handles for GLib / GObject / GStreamer references.
//
// GRef<T> owns exactly one reference to a GObject-derived instance. It is
// created either by adopting a reference the caller already owns
// (GRef<T>::adopt, for "transfer full" returns) or by taking a new one
// (GRef<T>::ref, for borrowed "transfer none" pointers). Floating references
// (freshly made GstElements) are sunk by GRef<T>::ref_sink.
//
// GUnique<T> is a std::unique_ptr with the right free function for plain C
// types (GError, gchar*, GstCaps, GstSDPMessage, a stdio FILE, ...).
// Deleters for json-glib's types are in common/gjson.h, for GStreamer's in
// gst/gst_util.h: only the libraries that use them include them.

#include <glib-object.h>

#include <cstdio>
#include <memory>
#include <utility>

namespace callagent {

template <typename T>
class GRef {
 public:
  GRef() = default;
  GRef(std::nullptr_t) {}
  ~GRef() { reset(); }

  static GRef adopt(T* p) {
    GRef r;
    r.p_ = p;
    return r;
  }
  static GRef ref(T* p) {
    GRef r;
    r.p_ = p ? static_cast<T*>(g_object_ref(p)) : nullptr;
    return r;
  }
  static GRef ref_sink(T* p) {
    GRef r;
    r.p_ = p ? static_cast<T*>(g_object_ref_sink(p)) : nullptr;
    return r;
  }

  GRef(const GRef& o) : p_(o.p_ ? static_cast<T*>(g_object_ref(o.p_)) : nullptr) {}
  GRef(GRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  GRef& operator=(const GRef& o) {
    if (this != &o) {
      GRef tmp(o);
      std::swap(p_, tmp.p_);
    }
    return *this;
  }
  GRef& operator=(GRef&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }

  void reset() {
    if (p_) g_object_unref(std::exchange(p_, nullptr));
  }
  // Gives the reference away (for "transfer full" parameters).
  [[nodiscard]] T* release() { return std::exchange(p_, nullptr); }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  template <typename U>
  U* as() const {
    return reinterpret_cast<U*>(p_);
  }

 private:
  T* p_ = nullptr;
};

template <typename T>
struct GDeleter;

template <typename T>
using GUnique = std::unique_ptr<T, GDeleter<T>>;

#define CALLAGENT_DEFINE_GDELETER(Type, fn)         \
  template <>                                     \
  struct GDeleter<Type> {                         \
    void operator()(Type* p) const { if (p) fn(p); } \
  }

CALLAGENT_DEFINE_GDELETER(GError, g_error_free);
CALLAGENT_DEFINE_GDELETER(gchar, g_free);
CALLAGENT_DEFINE_GDELETER(GBytes, g_bytes_unref);
CALLAGENT_DEFINE_GDELETER(GMainLoop, g_main_loop_unref);
CALLAGENT_DEFINE_GDELETER(GMainContext, g_main_context_unref);
CALLAGENT_DEFINE_GDELETER(GSource, g_source_unref);
CALLAGENT_DEFINE_GDELETER(GUri, g_uri_unref);
CALLAGENT_DEFINE_GDELETER(GHashTable, g_hash_table_unref);
CALLAGENT_DEFINE_GDELETER(GVariant, g_variant_unref);
// fclose's result is lost here: where a failed close matters (a file just
// written), release() and fclose() explicitly.
CALLAGENT_DEFINE_GDELETER(FILE, std::fclose);

using GErrorPtr = GUnique<GError>;
using GCharPtr = GUnique<gchar>;
using FilePtr = GUnique<FILE>;

}  // namespace callagent
