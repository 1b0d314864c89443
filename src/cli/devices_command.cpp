// `callagent devices`: cameras and microphones (GstDeviceMonitor), with the
// --video-source / --audio-source value that selects each.
#include "cli/devices_command.h"

#include "cli/common_options.h"
#include "media/device_list.h"

#include <CLI/CLI.hpp>

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <iostream>

namespace callagent::cli {

namespace {

class DevicesCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    auto* app = parent.add_subcommand("devices", "List cameras and microphones");
    app->footer(R"(Examples:
  callagent devices
  callagent devices --json | jq -r '.[] | select(.kind=="camera") | .source'
Prints nothing but a note on stderr when there are no devices (exit 0).)");
    app->add_flag("--json", json_, "One JSON array of devices");
    add_logging_options(*app, log_);
    return app;
  }

  ExitCode run() override {
    apply_logging_options(log_);
    gst_init(nullptr, nullptr);
    auto devices = media::list_devices();
    if (json_) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_array(b);
      for (const auto& d : devices) {
        json_builder_begin_object(b);
        auto add = [&](const char* k, const std::string& v) {
          json_builder_set_member_name(b, k);
          json_builder_add_string_value(b, v.c_str());
        };
        add("kind", d.kind);
        add("name", d.name);
        add("class", d.device_class);
        add("path", d.path);
        add("source", d.source_spec);
        add("caps", d.caps_summary);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
      g_autoptr(JsonGenerator) gen = json_generator_new();
      g_autoptr(JsonNode) root = json_builder_get_root(b);
      json_generator_set_root(gen, root);
      json_generator_set_pretty(gen, TRUE);
      g_autofree gchar* text = json_generator_to_data(gen, nullptr);
      std::cout << text << std::endl;
    } else {
      if (devices.empty())
        std::cerr << "no cameras or microphones found (use --video-source test / --audio-source test)\n";
      for (const auto& d : devices) {
        std::cout << d.kind << "\t" << d.name << "\n";
        if (!d.source_spec.empty()) std::cout << "\tuse:  " << d.source_spec << "\n";
        if (!d.path.empty()) std::cout << "\tpath: " << d.path << "\n";
        if (!d.caps_summary.empty()) std::cout << "\tcaps: " << d.caps_summary << "\n";
      }
    }
    return ExitCode::Ok;
  }

 private:
  bool json_ = false;
  LoggingOptions log_;
};

}  // namespace

std::unique_ptr<Command> make_devices_command() { return std::make_unique<DevicesCommand>(); }

}  // namespace callagent::cli
