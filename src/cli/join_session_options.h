#pragma once
// Option translation for `callagent join`: checks the values of a
// JoinOptions and turns them into call::SessionOptions, what the call layer
// runs on. Pure (no I/O, no GStreamer), so it is unit-tested directly.
//
// The credentials are left out: the command resolves them (files,
// environment) only once the command line is known to be good.

#include "call/call_session.h"
#include "cli/join_options.h"
#include "common/result.h"

namespace callagent::cli {

// Usage errors name the option and quote the value.
Result<call::SessionOptions> to_session_options(const JoinOptions& o);

// "stun:host:port" (the browser's form) as GStreamer's "stun://host:port";
// other forms unchanged.
std::string gst_stun_url(const std::string& stun);

}  // namespace callagent::cli
