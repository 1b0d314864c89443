#pragma once
// A GObject signal handler connection that disconnects itself when destroyed,
// so that a C callback can never reach a C++ object that no longer exists.
// The connection holds a strong reference to the instance so that
// disconnecting is always valid.

#include <glib-object.h>

#include <utility>

namespace callagent {

class SignalConnection {
 public:
  SignalConnection() = default;
  SignalConnection(gpointer instance, const char* signal, GCallback cb, gpointer data,
                   GConnectFlags flags = GConnectFlags(0))
      : instance_(instance ? g_object_ref(instance) : nullptr) {
    if (instance_) id_ = g_signal_connect_data(instance_, signal, cb, data, nullptr, flags);
  }
  ~SignalConnection() { disconnect(); }
  SignalConnection(const SignalConnection&) = delete;
  SignalConnection& operator=(const SignalConnection&) = delete;
  SignalConnection(SignalConnection&& o) noexcept
      : instance_(std::exchange(o.instance_, nullptr)), id_(std::exchange(o.id_, 0)) {}
  SignalConnection& operator=(SignalConnection&& o) noexcept {
    if (this != &o) {
      disconnect();
      instance_ = std::exchange(o.instance_, nullptr);
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  void disconnect() {
    if (instance_) {
      if (id_ && g_signal_handler_is_connected(instance_, id_))
        g_signal_handler_disconnect(instance_, id_);
      g_object_unref(instance_);
    }
    instance_ = nullptr;
    id_ = 0;
  }
  bool connected() const { return id_ != 0; }

 private:
  gpointer instance_ = nullptr;
  gulong id_ = 0;
};

}  // namespace callagent
