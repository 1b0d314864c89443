#include "stats/expectation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace callagent::stats {

namespace {

Error usage(std::string_view text, const std::string& why, bool list = false) {
  std::string m = fmt::format("--expect '{}': {}", text, why);
  if (list) m += "; known metrics: " + known_metric_names();
  return Error{ExitCode::Usage, m};
}

struct UnitSpec {
  const char* symbol;
  double factor;
  bool (*fits)(Unit);
};

bool is_rate_or_count(Unit u) { return u == Unit::BitRate || u == Unit::Count; }
bool is_rate(Unit u) { return u == Unit::BitRate; }
bool is_time(Unit u) { return u == Unit::Millis; }
bool is_percent(Unit u) { return u == Unit::Percent; }
bool is_pixels(Unit u) { return u == Unit::Pixels; }
bool is_fps(Unit u) { return u == Unit::Fps; }
bool is_db(Unit u) { return u == Unit::Decibel; }

const UnitSpec kUnits[] = {
    {"kbps", 1e3, is_rate},   {"Mbps", 1e6, is_rate},   {"bps", 1, is_rate},
    {"k", 1e3, is_rate_or_count}, {"M", 1e6, is_rate_or_count}, {"G", 1e9, is_rate_or_count},
    {"ms", 1, is_time},       {"s", 1000, is_time},     {"%", 1, is_percent},
    {"px", 1, is_pixels},     {"fps", 1, is_fps},       {"dBFS", 1, is_db},
    {"dB", 1, is_db},
};

bool is_metric_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The rest of a text metric's expression, from after its operator.
Result<Expectation> parse_word(std::string_view text, size_t i, const MetricInfo& info, Expectation e) {
  if (e.op != CompareOp::Eq && e.op != CompareOp::Ne)
    return usage(text, fmt::format("operator '{}' does not apply to {}: it is a word (use == or !=)",
                                   to_string(e.op), info.name));
  std::string_view rest = text.substr(i);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.remove_suffix(1);
  if (rest.empty()) return usage(text, "missing value after the operator");
  for (char c : rest)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return usage(text, fmt::format("bad value '{}' for {} (a word: letters, digits, _ and -)", rest, info.name));
  e.word = std::string(rest);
  if (!info.values.empty() && std::find(info.values.begin(), info.values.end(), e.word) == info.values.end())
    return usage(text, fmt::format("unknown value '{}' for {} (one of {})", e.word, info.name, join(info.values)));
  return e;
}

}  // namespace

std::string_view to_string(CompareOp op) {
  switch (op) {
    case CompareOp::Ge: return ">=";
    case CompareOp::Le: return "<=";
    case CompareOp::Eq: return "==";
    case CompareOp::Ne: return "!=";
    case CompareOp::Gt: return ">";
    case CompareOp::Lt: return "<";
  }
  return "?";
}

std::string known_metric_names() {
  std::string s;
  for (const auto& m : metric_catalog()) {
    if (!s.empty()) s += ", ";
    s += m.name;
  }
  return s;
}

Result<Expectation> parse_expectation(std::string_view text) {
  Expectation e;
  e.text = std::string(text);
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip_ws();
  const size_t name_start = i;
  while (i < text.size() && is_metric_char(text[i])) ++i;
  std::string name(text.substr(name_start, i - name_start));
  if (name.empty()) {
    if (i < text.size())
      return usage(text, fmt::format("expected a metric name, found '{}'", text.substr(i)), true);
    return usage(text, "empty expression; write METRIC OP VALUE, e.g. video.in.fps>=25", true);
  }
  // Resolve METRIC[.AGGREGATE].
  const MetricInfo* info = find_metric(name);
  std::optional<Aggregate> agg;
  if (!info) {
    auto dot = name.rfind('.');
    if (dot != std::string::npos) {
      const MetricInfo* base = find_metric(name.substr(0, dot));
      auto a = parse_aggregate(name.substr(dot + 1));
      if (base && !a)
        return usage(text, fmt::format("unknown aggregate '{}' (use min, avg, max, last or total)",
                                       name.substr(dot + 1)));
      if (base) {
        info = base;
        agg = a;
      }
    }
  }
  if (!info) return usage(text, fmt::format("unknown metric '{}'", name), true);
  e.metric = info->name;
  e.unit = info->unit;
  if (agg) {
    const bool gauge = info->kind == MetricKind::Gauge;
    const bool counter = info->kind == MetricKind::Counter || info->kind == MetricKind::Freeze ||
                         info->kind == MetricKind::Ratio;
    const bool ok = (gauge && *agg != Aggregate::Total) || (counter && *agg == Aggregate::Total);
    if (!ok)
      return usage(text, fmt::format("aggregate '{}' does not apply to {}", aggregate_name(*agg), info->name));
    e.aggregate = *agg;
  } else {
    e.aggregate = info->default_aggregate;
  }

  skip_ws();
  static const std::pair<const char*, CompareOp> ops[] = {
      {">=", CompareOp::Ge}, {"<=", CompareOp::Le}, {"==", CompareOp::Eq}, {"!=", CompareOp::Ne},
      {">", CompareOp::Gt},  {"<", CompareOp::Lt},
  };
  bool found = false;
  for (const auto& [sym, op] : ops) {
    const std::string_view s(sym);
    if (text.substr(i, s.size()) == s) {
      // "=" alone or "=>" are not operators.
      e.op = op;
      i += s.size();
      found = true;
      break;
    }
  }
  if (!found) {
    if (i >= text.size()) return usage(text, "missing comparison operator (>= <= == != > <)");
    return usage(text, fmt::format("bad operator at '{}' (use >= <= == != > <)", text.substr(i)));
  }
  skip_ws();
  if (info->kind == MetricKind::Text) return parse_word(text, i, *info, std::move(e));
  const size_t num_start = i;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  bool digits = false;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    digits |= std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    ++i;
  }
  const std::string num(text.substr(num_start, i - num_start));
  char* end = nullptr;
  const double v = digits ? std::strtod(num.c_str(), &end) : 0;
  if (!digits || !end || *end != '\0') {
    const auto bad = text.substr(num_start);
    if (bad.empty()) return usage(text, "missing value after the operator");
    if (!digits && std::isalpha(static_cast<unsigned char>(bad.front())))
      return usage(text, fmt::format("bad number '{}': {} is a number (words go with ice.* and "
                                     "congestion.limited_by)", bad, info->name));
    return usage(text, fmt::format("bad number '{}'", bad));
  }
  std::string unit(text.substr(i));
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front()))) unit.erase(0, 1);
  double factor = 1;
  if (!unit.empty()) {
    const UnitSpec* spec = nullptr;
    for (const auto& u : kUnits)
      if (unit == u.symbol) spec = &u;
    if (!spec)
      return usage(text, fmt::format("unknown unit '{}' (k M G, bps kbps Mbps, ms s, %, px, fps, dB)", unit));
    if (!spec->fits(info->unit))
      return usage(text, fmt::format("unit '{}' does not fit {} (measured in {})", unit, info->name,
                                     unit_symbol(info->unit).empty() ? "plain numbers"
                                                                     : unit_symbol(info->unit)));
    factor = spec->factor;
  }
  e.threshold = v * factor;
  return e;
}

std::string format_value(double v, Unit u) {
  std::string num;
  double a = std::fabs(v);
  if (u == Unit::BitRate && a >= 1e6)
    return fmt::format("{:.3g} Mbit/s", v / 1e6);
  if (u == Unit::BitRate && a >= 1e3)
    return fmt::format("{:.4g} kbit/s", v / 1e3);
  if (a == std::floor(a) && a < 1e12)
    num = fmt::format("{:.0f}", v);
  else if (a >= 100)
    num = fmt::format("{:.1f}", v);
  else
    num = fmt::format("{:.3g}", v);
  auto sym = unit_symbol(u);
  if (sym.empty()) return num;
  if (u == Unit::Percent) return num + "%";
  return num + " " + std::string(sym);
}

ExpectationResult evaluate(const Expectation& e, const Summary& summary) {
  ExpectationResult r;
  r.expectation = e;
  auto it = summary.find(e.metric);
  if (it != summary.end()) r.measured = it->second.get(e.aggregate);
  const std::string what = e.aggregate == Aggregate::Value
                               ? e.metric
                               : fmt::format("{} ({})", e.metric, aggregate_name(e.aggregate));
  if (e.unit == Unit::Text) {
    if (it != summary.end()) r.measured_text = it->second.text;
    const std::string want = fmt::format("{} {}", to_string(e.op), e.word);
    if (!r.measured_text) {
      r.message = fmt::format("{}: no data, expected {}", e.metric, want);
      return r;
    }
    r.passed = (*r.measured_text == e.word) == (e.op == CompareOp::Eq);
    r.message = fmt::format("{} = {}, expected {}", e.metric, *r.measured_text, want);
    return r;
  }
  const std::string want = fmt::format("{} {}", to_string(e.op), format_value(e.threshold, e.unit));
  if (!r.measured) {
    r.passed = false;
    r.message = fmt::format("{}: no data, expected {}", what, want);
    return r;
  }
  const double m = *r.measured, t = e.threshold;
  const bool eq = std::fabs(m - t) <= 1e-9 * std::max(1.0, std::fabs(t));
  switch (e.op) {
    case CompareOp::Ge: r.passed = m >= t || eq; break;
    case CompareOp::Le: r.passed = m <= t || eq; break;
    case CompareOp::Eq: r.passed = eq; break;
    case CompareOp::Ne: r.passed = !eq; break;
    case CompareOp::Gt: r.passed = m > t && !eq; break;
    case CompareOp::Lt: r.passed = m < t && !eq; break;
  }
  r.message = fmt::format("{} = {}, expected {}", what, format_value(m, e.unit), want);
  return r;
}

}  // namespace callagent::stats
