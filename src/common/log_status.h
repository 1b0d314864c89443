#pragma once
// The live status line (stats::StatusLine) on a terminal shares stderr with
// the log (logging.h). While one is shown, each log line first erases it
// and then draws it again below, under the log sink's lock, so that lines
// from streaming threads never land in the middle of it.
//
// The status is drawn as "\r\033[K" TEXT "\r": the cursor stays at the
// start of the line, so output that bypasses the log (GStreamer's own debug
// output) overwrites it rather than being glued to its end. TEXT must fit
// one row of the terminal (a wrapped line could not be erased).

#include <string>

namespace callagent::logging {

// Shows `text` as the status line now, and after every log line until
// clear_status().
void show_status(std::string text);
// Erases the status line and stops redrawing it.
void clear_status();

}  // namespace callagent::logging
