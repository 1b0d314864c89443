#pragma once
// Start-up check that every GStreamer element the configured call needs is
// installed, naming the Debian package that provides a missing one, at
// start-up rather than mid-call. Returns ExitCode::Config on failure.

#include "common/result.h"
#include "media/media_options.h"

#include <string>
#include <vector>

namespace callagent::media {

struct RequiredElement {
  std::string factory;
  std::string package;  // Debian package
};

// The elements `options` needs (sending, receiving, the chosen outputs).
std::vector<RequiredElement> required_elements(const MediaOptions& options);

// Checks that each element factory exists; one Error listing all missing
// ones ("missing GStreamer elements: webrtcbin (install
// gstreamer1.0-plugins-bad), ...").
Status check_elements(const std::vector<RequiredElement>& elements);
Status check_plugins(const MediaOptions& options);

}  // namespace callagent::media
