#pragma once
// A media file played as a live source: uridecodebin (our kind's stream
// only; other streams are consumed inside) -> convert -> clocksync (a file
// is not live: paced to the pipeline clock), in a bin with a ghost "src"
// pad, added to the pipeline and linked to the encode chain.
//
// The file's EOS never goes downstream: the encoder and every peer's branch
// outlive the file. With `loop`, the bin is replaced by a fresh one at EOS
// (its pad offset to the running time, so timestamps continue) while the
// chain after it keeps running; without, `on_end` is called.
//
// Owned by LocalSource; the pipeline owns the bins. Main thread, except
// the EOS probe and uridecodebin's pad-added (streaming threads): the
// probe only posts to the main context, pad-added only links inside the
// bin it belongs to.

#include "common/main_context.h"
#include "common/result.h"
#include "media/media_options.h"
#include "media/pad_probe.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>

namespace callagent::media {

class FileSource {
 public:
  // Checks that spec.device is a regular file and builds the first bin in
  // `pipeline`. `on_end`: the file ended and does not loop (main context).
  static Result<std::unique_ptr<FileSource>> create(GstBin* pipeline, MediaKind kind,
                                                    const SourceSpec& spec,
                                                    std::function<void()> on_end);
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // The current bin (owned by the pipeline).
  GstElement* bin() const { return bin_; }
  // Links the bin to the chain's first element, which a restarted bin is
  // linked to again.
  bool link(GstElement* downstream);

 private:
  FileSource(GstBin* pipeline, MediaKind kind, const SourceSpec& spec,
             std::function<void()> on_end);
  Status add_bin();
  void on_eos();  // main context
  void restart();
  static GstPadProbeReturn on_output_probe(GstPad*, GstPadProbeInfo*, gpointer);

  GstBin* pipeline_;  // borrowed (the engine owns it and outlives us)
  MediaKind kind_;
  SourceSpec spec_;
  std::function<void()> on_end_;
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();
  GstElement* bin_ = nullptr;         // owned by the pipeline
  GstElement* downstream_ = nullptr;  // owned by the pipeline
  PadProbe output_probe_;
  std::atomic<bool> eos_posted_{false};
  int generation_ = 0;  // names the bins: "video-file-1", "video-file-2", ...
};

}  // namespace callagent::media
