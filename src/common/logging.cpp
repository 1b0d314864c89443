#include "common/logging.h"
#include "common/log_status.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <glib.h>
#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <mutex>

namespace callagent::logging {

namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
Format g_format = Format::Text;
class StatusAwareSink;
std::shared_ptr<StatusAwareSink> g_sink;  // every logger's one sink

void append_json_escaped(spdlog::memory_buf_t& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out.append(std::string_view(buf));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

// One JSON object per line: {"ts":"…","level":"info","area":"ws","msg":"…"}
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    auto t = system_clock::to_time_t(msg.time);
    auto ms = duration_cast<milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[64];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    dest.append(std::string_view("{\"ts\":\""));
    dest.append(std::string_view(ts));
    dest.append(std::string_view("\",\"level\":\""));
    auto lvl = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view(lvl.data(), lvl.size()));
    dest.append(std::string_view("\",\"area\":\""));
    append_json_escaped(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(std::string_view("\",\"msg\":\""));
    append_json_escaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// stderr with the live status line: the status is taken off the screen
// before a log line and put back after it (see show_status()).
class StatusAwareSink final : public spdlog::sinks::sink {
 public:
  StatusAwareSink() : inner_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {}

  void log(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(mutex_);
    if (!status_.empty()) std::fputs("\r\033[K", stderr);
    inner_->log(msg);
    if (!status_.empty()) draw();
  }
  void flush() override {
    std::lock_guard lock(mutex_);
    inner_->flush();
  }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

  void show(std::string text) {
    std::lock_guard lock(mutex_);
    status_ = std::move(text);
    draw();
  }
  void clear() {
    std::lock_guard lock(mutex_);
    if (status_.empty()) return;
    status_.clear();
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }

 private:
  void draw() {
    std::fputs("\r\033[K", stderr);
    std::fputs(status_.c_str(), stderr);
    std::fputs("\r", stderr);
    std::fflush(stderr);
  }

  std::mutex mutex_;
  std::shared_ptr<spdlog::sinks::sink> inner_;
  std::string status_;  // shown now when not empty
};

void configure(spdlog::logger& l) {
  l.set_level(g_level);
  if (g_format == Format::Json)
    l.set_formatter(std::make_unique<JsonFormatter>());
  else
    l.set_pattern("%H:%M:%S.%e %^%-5l%$ [%n] %v");
}

std::shared_ptr<StatusAwareSink> sink() {
  if (!g_sink) g_sink = std::make_shared<StatusAwareSink>();
  return g_sink;
}

}  // namespace

void setup(int verbosity, Format format) {
  std::lock_guard lock(g_mutex);
  if (verbosity <= -2)
    g_level = spdlog::level::err;
  else if (verbosity == -1)
    g_level = spdlog::level::warn;
  else if (verbosity == 0)
    g_level = spdlog::level::info;
  else if (verbosity == 1)
    g_level = spdlog::level::debug;
  else
    g_level = spdlog::level::trace;
  g_format = format;
  spdlog::apply_all([](std::shared_ptr<spdlog::logger> l) { configure(*l); });
}

std::shared_ptr<spdlog::logger> get(const std::string& area) {
  std::lock_guard lock(g_mutex);
  if (auto l = spdlog::get(area)) return l;
  auto l = std::make_shared<spdlog::logger>(area, sink());
  configure(*l);
  spdlog::register_logger(l);
  return l;
}

void show_status(std::string text) {
  std::shared_ptr<StatusAwareSink> s;
  {
    std::lock_guard lock(g_mutex);
    s = sink();
  }
  s->show(text.empty() ? std::string(" ") : std::move(text));
}

void clear_status() {
  std::shared_ptr<StatusAwareSink> s;
  {
    std::lock_guard lock(g_mutex);
    s = sink();
  }
  s->clear();
}

std::string redact(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  return std::string(secret.substr(0, std::min<size_t>(4, secret.size() / 4))) + "…";
}

namespace {
// GLib's structured log writer: both g_log() (through GLib's default
// handler) and g_log_structured() (glib-networking, GIO) arrive here, so
// nothing bypasses spdlog's format and level. g_debug maps to trace: GLib's
// and libsoup's debug chatter is for -vv only.
std::string current_thread_name() {
  char name[32] = {0};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return {};
  return name;
}

GLogWriterOutput on_glib_log(GLogLevelFlags level, const GLogField* fields, gsize n_fields,
                             gpointer) {
  std::string_view message, domain;
  for (gsize i = 0; i < n_fields; ++i) {
    const GLogField& f = fields[i];
    if (!f.value) continue;
    auto text = f.length < 0 ? std::string_view(static_cast<const char*>(f.value))
                             : std::string_view(static_cast<const char*>(f.value),
                                                static_cast<size_t>(f.length));
    if (std::strcmp(f.key, "MESSAGE") == 0)
      message = text;
    else if (std::strcmp(f.key, "GLIB_DOMAIN") == 0)
      domain = text;
  }
  auto l = get(domain.empty() ? std::string("glib") : "glib:" + std::string(domain));
  const char* known = nullptr;
  if (level & G_LOG_LEVEL_CRITICAL) known = known_upstream_bug(domain, message, current_thread_name());
  if (known)
    l->warn("{} ({})", message, known);
  else if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    l->error("{}", message);
  else if (level & G_LOG_LEVEL_WARNING)
    l->warn("{}", message);
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    l->info("{}", message);
  else
    l->trace("{}", message);
  return G_LOG_WRITER_HANDLED;
}
}  // namespace

const char* known_upstream_bug(std::string_view domain, std::string_view message, std::string_view thread) {
  if (domain == "GLib" && thread == "rtpsession-rtcp" &&
      message.find("g_hash_table_foreach: assertion 'version == hash_table->version' failed") != std::string_view::npos)
    return "a known GStreamer 1.22.0 rtpsession race: a new SSRC arrived while an RTCP pass walked the sources; "
           "that pass ends early, nothing is lost";
  return nullptr;
}

void capture_glib_logs() {
  // GLib allows setting the writer once per process.
  static std::once_flag once;
  std::call_once(once, [] { g_log_set_writer_func(on_glib_log, nullptr, nullptr); });
}

}  // namespace callagent::logging
