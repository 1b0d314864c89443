#pragma once
// What `callagent --version` prints: the release, the git revision it was
// built from ("unknown" outside a git checkout) and the GStreamer it runs
// with (and was built against, when they differ).

#include <string>

namespace callagent::cli {

// `git describe --always --dirty` at build time.
const char* build_revision();

// "callagent 0.1.0 (git 8a3b343), GStreamer 1.22.0"
std::string version_text();

}  // namespace callagent::cli
