#include "common/prometheus_text.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

namespace callagent {

bool PrometheusText::valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

std::string PrometheusText::escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string PrometheusText::escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string PrometheusText::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Counters of packets and bytes are integers: write them as such, exactly
  // (below 2^53 a double holds every integer).
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  assert(valid_name(name));
  name_ = std::string(name);
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help), name_,
                      type == Type::Counter ? "counter" : "gauge");
}

void PrometheusText::sample(double value, const Labels& labels) {
  out_ += name_;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      assert(valid_name(k));
      if (!first) out_ += ',';
      first = false;
      out_ += fmt::format("{}=\"{}\"", k, escape_label_value(v));
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, Type::Gauge, help);
  sample(value);
}

void PrometheusText::counter(std::string_view name, std::string_view help, double value) {
  family(name, Type::Counter, help);
  sample(value);
}

}  // namespace callagent
