#include "common/prometheus_text.h"

#include <catch2/catch.hpp>

#include <cmath>

using callagent::PrometheusText;

TEST_CASE("prometheus text: HELP and TYPE before the samples, labels escaped", "[common][prometheus]") {
  PrometheusText p;
  p.family("callagent_x_total", PrometheusText::Type::Counter, "a \\ help\nline");
  p.sample(3, {{"kind", "video"}, {"path", "a\"b\\c\nd"}});
  p.gauge("callagent_y_seconds", "y", 0.25);
  CHECK(p.text() ==
        "# HELP callagent_x_total a \\\\ help\\nline\n"
        "# TYPE callagent_x_total counter\n"
        "callagent_x_total{kind=\"video\",path=\"a\\\"b\\\\c\\nd\"} 3\n"
        "# HELP callagent_y_seconds y\n"
        "# TYPE callagent_y_seconds gauge\n"
        "callagent_y_seconds 0.25\n");
}

TEST_CASE("prometheus text: values", "[common][prometheus]") {
  CHECK(PrometheusText::format_value(0) == "0");
  CHECK(PrometheusText::format_value(12345678901.0) == "12345678901");
  CHECK(PrometheusText::format_value(-2) == "-2");
  CHECK(PrometheusText::format_value(1.5) == "1.5");
  CHECK(PrometheusText::format_value(NAN) == "NaN");
  CHECK(PrometheusText::format_value(INFINITY) == "+Inf");
  CHECK(PrometheusText::format_value(-INFINITY) == "-Inf");
  CHECK(PrometheusText::format_value(1e300) == "1e+300");
}

TEST_CASE("prometheus text: metric and label names", "[common][prometheus]") {
  CHECK(PrometheusText::valid_name("callagent_rtt_seconds"));
  CHECK(PrometheusText::valid_name("a:b_9"));
  CHECK_FALSE(PrometheusText::valid_name(""));
  CHECK_FALSE(PrometheusText::valid_name("9a"));
  CHECK_FALSE(PrometheusText::valid_name("a-b"));
  CHECK_FALSE(PrometheusText::valid_name("a.b"));
}
