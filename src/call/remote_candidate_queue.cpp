#include "call/remote_candidate_queue.h"

#include "common/logging.h"

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}
}  // namespace

std::string candidate_ufrag(const signaling::IceCandidate& c) {
  if (c.username_fragment && !c.username_fragment->empty()) return *c.username_fragment;
  const std::string key = " ufrag ";
  auto pos = c.candidate.find(key);
  if (pos == std::string::npos) return {};
  pos += key.size();
  auto end = c.candidate.find(' ', pos);
  return c.candidate.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

void RemoteCandidateQueue::push(const signaling::IceCandidate& c) {
  if (queued_.size() >= kMaxCandidates) {
    log()->warn("dropping a remote candidate: {} are already waiting for their description", queued_.size());
    return;
  }
  queued_.push_back(c);
}

std::vector<signaling::IceCandidate> RemoteCandidateQueue::take(const std::string& ufrag) {
  std::vector<signaling::IceCandidate> out;
  size_t dropped = 0;
  for (auto& c : queued_) {
    auto u = candidate_ufrag(c);
    if (ufrag.empty() || u.empty() || u == ufrag)
      out.push_back(std::move(c));
    else
      ++dropped;
  }
  queued_.clear();
  if (dropped) log()->debug("dropped {} queued candidate(s) of another ICE session", dropped);
  return out;
}

}  // namespace callagent::call
