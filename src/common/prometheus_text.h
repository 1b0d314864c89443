#pragma once
// PrometheusText: writes the Prometheus text exposition format 0.0.4 (what
// `GET /metrics` answers, Content-Type kContentType). One family at a
// time: family() writes its HELP and TYPE lines, sample() its samples.
// Names follow the Prometheus conventions the callers keep: a `callagent_`
// prefix, `_total` on counters, base units in the name (`_seconds`,
// `_bytes`, `_bits_per_second`, `_ratio`). Label values and HELP text are
// escaped here; names are the caller's constants (checked in debug builds).
// Pure: no I/O.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callagent {

class PrometheusText {
 public:
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
  enum class Type { Counter, Gauge };
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Starts a family: "# HELP name help" and "# TYPE name counter|gauge".
  void family(std::string_view name, Type type, std::string_view help);
  // A sample of the current family. NaN and infinities are written as
  // Prometheus spells them; integral values without a fraction.
  void sample(double value, const Labels& labels = {});
  // family() and one unlabelled sample.
  void gauge(std::string_view name, std::string_view help, double value);
  void counter(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return out_; }

  static bool valid_name(std::string_view name);
  static std::string escape_label_value(std::string_view v);
  static std::string escape_help(std::string_view v);
  static std::string format_value(double v);

 private:
  std::string out_;
  std::string name_;  // the current family
};

}  // namespace callagent
