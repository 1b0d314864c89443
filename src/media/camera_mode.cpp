#include "media/camera_mode.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

namespace callagent::media {

namespace {

// 30000/1001 (29.97) counts as 30: cameras and drivers report either.
bool reaches(double fps, int target) { return fps * 1001.0 >= target * 1000.0 - 1e-6; }

int clamp_to_range(int target, int min, int max, int step) {
  int v = std::clamp(target, min, max);
  if (step > 1) v = min + (v - min) / step * step;
  return v;
}

// The values worth trying for one int field: each fixed value, and for a
// range the target clamped into it and the range's maximum.
void int_candidates(const GValue* v, int target, std::vector<int>& out) {
  if (!v) {
    out.push_back(target);  // unconstrained
  } else if (G_VALUE_HOLDS_INT(v)) {
    out.push_back(g_value_get_int(v));
  } else if (GST_VALUE_HOLDS_INT_RANGE(v)) {
    int min = gst_value_get_int_range_min(v), max = gst_value_get_int_range_max(v);
    int step = std::max(1, gst_value_get_int_range_step(v));
    out.push_back(clamp_to_range(target, min, max, step));
    out.push_back(clamp_to_range(max, min, max, step));
  } else if (GST_VALUE_HOLDS_LIST(v)) {
    for (guint i = 0; i < gst_value_list_get_size(v); ++i)
      int_candidates(gst_value_list_get_value(v, i), target, out);
  }
}

struct Fraction {
  int n, d;
};

void fps_candidates(const GValue* v, int target, std::vector<Fraction>& out) {
  if (!v) {
    out.push_back({target, 1});
  } else if (GST_VALUE_HOLDS_FRACTION(v)) {
    out.push_back({gst_value_get_fraction_numerator(v), gst_value_get_fraction_denominator(v)});
  } else if (GST_VALUE_HOLDS_FRACTION_RANGE(v)) {
    const GValue* lo = gst_value_get_fraction_range_min(v);
    const GValue* hi = gst_value_get_fraction_range_max(v);
    Fraction min{gst_value_get_fraction_numerator(lo), gst_value_get_fraction_denominator(lo)};
    Fraction max{gst_value_get_fraction_numerator(hi), gst_value_get_fraction_denominator(hi)};
    auto value = [](Fraction f) { return f.d ? static_cast<double>(f.n) / f.d : 0.0; };
    if (value(min) <= target && target <= value(max))
      out.push_back({target, 1});
    else
      out.push_back(value(max) < target ? max : min);
    // A range's top may be absurd (G_MAXINT/1 from a permissive element):
    // only the in-range preset rate or the nearest bound is worth asking for.
  } else if (GST_VALUE_HOLDS_LIST(v)) {
    for (guint i = 0; i < gst_value_list_get_size(v); ++i)
      fps_candidates(gst_value_list_get_value(v, i), target, out);
  }
}

void string_candidates(const GValue* v, std::vector<std::string>& out) {
  if (!v) {
    out.emplace_back();
  } else if (G_VALUE_HOLDS_STRING(v)) {
    out.emplace_back(g_value_get_string(v));
  } else if (GST_VALUE_HOLDS_LIST(v)) {
    for (guint i = 0; i < gst_value_list_get_size(v); ++i)
      string_candidates(gst_value_list_get_value(v, i), out);
  }
}

struct Candidate {
  CameraMode mode;
  int order;  // position in the caps: the device's own preference breaks ties
};

// Higher is better, compared lexicographically. Why this order:
// - fluent: at least min(preset fps, 30). A call at 10 fps looks broken; a
//   lower resolution only looks soft. (60 fps presets settle for 30.)
// - size: the exact size; else the smallest mode covering the preset
//   (downscaling keeps detail); else the largest below it.
// - the preset frame rate itself.
// - raw before MJPEG (no decoder, no JPEG artefacts).
// - the rate nearest the preset (above it: the lowest; below: the highest).
// - among raw formats offered together, the cheapest to convert to I420
//   (a permissive element's list of every format must not pick AYUV64).
// - the device's order.
int format_preference(const std::string& f) {
  if (f == "I420" || f == "NV12") return 2;
  if (f == "YUY2" || f == "UYVY" || f == "YVYU" || f == "YV12" || f == "NV21") return 1;
  return 0;
}

auto rank(const Candidate& c, const VideoPreset& p) {
  const CameraMode& m = c.mode;
  const double fps = m.fps();
  const bool fluent = reaches(fps, std::min(p.fps, 30));
  const bool exact = m.width == p.width && m.height == p.height;
  const bool covers = m.width >= p.width && m.height >= p.height;
  const int size_class = exact ? 2 : covers ? 1 : 0;
  const long long area = static_cast<long long>(m.width) * m.height;
  const long long size_score = exact ? 0 : covers ? -area : area;
  const bool fps_meets = reaches(fps, p.fps);
  const double fps_score = fps_meets ? -fps : fps;
  const bool raw = m.kind == CameraMode::Kind::Raw;
  return std::make_tuple(fluent, size_class, size_score, fps_meets, raw, fps_score,
                         format_preference(m.format), -c.order);
}

std::string fps_text(int n, int d) {
  if (d == 1) return std::to_string(n);
  std::string s = fmt::format("{:.2f}", d ? static_cast<double>(n) / d : 0.0);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string camera_format_name(const std::string& gst_format) {
  if (gst_format == "YUY2") return "YUYV";
  return gst_format;
}

std::string CameraMode::caps_string() const {
  if (kind == Kind::Jpeg)
    return fmt::format("image/jpeg,width={},height={},framerate={}/{}", width, height, fps_n,
                       fps_d);
  return fmt::format("video/x-raw{},width={},height={},framerate={}/{}",
                     format.empty() ? "" : ",format=" + format, width, height, fps_n, fps_d);
}

std::string CameraMode::size_rate() const {
  return fmt::format("{}x{}@{}", width, height, fps_text(fps_n, fps_d));
}

std::string CameraMode::describe() const {
  const std::string size = size_rate();
  if (kind == Kind::Jpeg) return "MJPEG " + size;
  if (format.empty()) return "raw " + size;
  return fmt::format("raw {} {}", camera_format_name(format), size);
}

bool CameraMode::rate_meets(const VideoPreset& preset) const { return reaches(fps(), preset.fps); }

bool CameraMode::meets(const VideoPreset& preset) const {
  return width == preset.width && height == preset.height && rate_meets(preset);
}

std::optional<CameraMode> camera_mode_of(const GstStructure* s) {
  if (!s) return std::nullopt;
  CameraMode m;
  if (gst_structure_has_name(s, "image/jpeg")) {
    m.kind = CameraMode::Kind::Jpeg;
  } else if (gst_structure_has_name(s, "video/x-raw")) {
    m.kind = CameraMode::Kind::Raw;
    if (const char* f = gst_structure_get_string(s, "format")) m.format = f;
  } else {
    return std::nullopt;
  }
  gst_structure_get_int(s, "width", &m.width);
  gst_structure_get_int(s, "height", &m.height);
  if (!gst_structure_get_fraction(s, "framerate", &m.fps_n, &m.fps_d)) {
    m.fps_n = 0;
    m.fps_d = 1;
  }
  return m;
}

std::optional<CameraChoice> choose_camera_mode(const GstCaps* caps, const VideoPreset& preset,
                                               bool allow_jpeg) {
  if (!caps || gst_caps_is_any(caps) || gst_caps_is_empty(caps)) return std::nullopt;
  std::vector<Candidate> all;
  int order = 0;
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstStructure* s = gst_caps_get_structure(caps, i);
    const GstCapsFeatures* f = gst_caps_get_features(caps, i);
    // DMABuf, GL memory...: the converters after the source take system memory.
    if (f && !gst_caps_features_is_any(f) &&
        !gst_caps_features_is_equal(f, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))
      continue;
    CameraMode::Kind kind;
    if (gst_structure_has_name(s, "video/x-raw"))
      kind = CameraMode::Kind::Raw;
    else if (allow_jpeg && gst_structure_has_name(s, "image/jpeg"))
      kind = CameraMode::Kind::Jpeg;
    else
      continue;  // H.264, other compressed formats, audio...
    std::vector<std::string> formats;
    if (kind == CameraMode::Kind::Raw)
      string_candidates(gst_structure_get_value(s, "format"), formats);
    else
      formats.emplace_back();
    std::vector<int> widths, heights;
    std::vector<Fraction> rates;
    int_candidates(gst_structure_get_value(s, "width"), preset.width, widths);
    int_candidates(gst_structure_get_value(s, "height"), preset.height, heights);
    fps_candidates(gst_structure_get_value(s, "framerate"), preset.fps, rates);
    // Two ranges (a stepwise or continuous size) give two sizes: the preset
    // clamped into them and their maxima; anything else combines freely.
    std::vector<std::pair<int, int>> sizes;
    if (GST_VALUE_HOLDS_INT_RANGE(gst_structure_get_value(s, "width")) &&
        GST_VALUE_HOLDS_INT_RANGE(gst_structure_get_value(s, "height"))) {
      for (size_t k = 0; k < widths.size() && k < heights.size(); ++k)
        sizes.emplace_back(widths[k], heights[k]);
    } else {
      for (int w : widths)
        for (int h : heights) sizes.emplace_back(w, h);
    }
    for (const auto& [w, h] : sizes)
      for (const auto& fmt_name : formats)
        for (const auto& r : rates) {
          if (w <= 0 || h <= 0 || r.n < 0 || r.d <= 0) continue;
          CameraMode m;
          m.kind = kind;
          m.format = fmt_name;
          m.width = w;
          m.height = h;
          m.fps_n = r.n;
          m.fps_d = r.d;
          all.push_back({m, order++});
        }
  }
  if (all.empty()) return std::nullopt;

  auto best_of = [&](auto&& pred) -> std::optional<CameraMode> {
    const Candidate* best = nullptr;
    for (const auto& c : all) {
      if (!pred(c)) continue;
      if (!best || rank(c, preset) > rank(*best, preset)) best = &c;
    }
    if (!best) return std::nullopt;
    return best->mode;
  };
  CameraChoice choice;
  choice.mode = *best_of([](const Candidate&) { return true; });
  choice.best_raw =
      best_of([](const Candidate& c) { return c.mode.kind == CameraMode::Kind::Raw; });
  return choice;
}

}  // namespace callagent::media
