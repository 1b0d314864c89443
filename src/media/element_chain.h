#pragma once
// A linear run of elements being built inside a bin: add() puts each element
// into the bin and remembers its place, link() links them in that order and
// names the pair that did not link. Used to build the encode chain of a
// LocalSource piece by piece (conversion, audio processing, encoder, tee).
//
// The bin owns the elements; the chain only borrows them, for as long as
// it is being built. Main thread.

#include "common/gref.h"
#include "common/result.h"

#include <gst/gst.h>

#include <string>
#include <vector>

namespace callagent::media {

class ElementChain {
 public:
  explicit ElementChain(GstBin* bin) : bin_(bin) {}

  // Makes an element (nullptr name: GStreamer's automatic one) and appends
  // it; nullptr (logged by make_element) marks the chain as failed.
  GstElement* add(const char* factory, const char* name = nullptr);
  // Appends an element made elsewhere; the bin takes its own reference.
  GstElement* add(const GRef<GstElement>& element);

  // False once an element could not be made.
  bool ok() const { return ok_; }
  bool empty() const { return elements_.empty(); }
  GstElement* front() const { return elements_.front(); }
  GstElement* back() const { return elements_.back(); }

  // Links each element to the next; the Error names the failing pair.
  Status link() const;

 private:
  GstBin* bin_;  // borrowed
  std::vector<GstElement*> elements_;  // owned by bin_
  bool ok_ = true;
};

}  // namespace callagent::media
