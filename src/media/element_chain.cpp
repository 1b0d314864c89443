#include "media/element_chain.h"

#include "gst/gst_util.h"

#include <fmt/format.h>

namespace callagent::media {

GstElement* ElementChain::add(const char* factory, const char* name) {
  GstElement* e = make_element(factory, name);
  if (!e) {
    ok_ = false;
    return nullptr;
  }
  gst_bin_add(bin_, e);  // sinks the floating reference
  elements_.push_back(e);
  return e;
}

GstElement* ElementChain::add(const GRef<GstElement>& element) {
  if (!element) {
    ok_ = false;
    return nullptr;
  }
  gst_bin_add(bin_, element.get());
  elements_.push_back(element.get());
  return element.get();
}

Status ElementChain::link() const {
  for (size_t i = 1; i < elements_.size(); ++i) {
    if (!gst_element_link(elements_[i - 1], elements_[i]))
      return Error{ExitCode::Config,
                   fmt::format("cannot link {} to {}", GST_ELEMENT_NAME(elements_[i - 1]),
                               GST_ELEMENT_NAME(elements_[i]))};
  }
  return Ok{};
}

}  // namespace callagent::media
