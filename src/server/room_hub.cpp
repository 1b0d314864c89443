#include "server/room_hub.h"

#include "common/logging.h"
#include "server/secure_random.h"
#include "signaling/protocol.h"

#include <algorithm>

namespace callagent::server {

namespace {
std::shared_ptr<spdlog::logger> hub_log() { return logging::get("server"); }
}  // namespace

RoomHub::RoomHub(UserIdMaker make_user_id) : make_user_id_(std::move(make_user_id)) {}

std::string RoomHub::random_user_id() { return "user_" + random_hex(8); }

bool RoomHub::full(const std::string& room) const {
  auto it = rooms_.find(room);
  return it != rooms_.end() && it->second.size() >= kPeersPerRoom;
}

std::optional<std::string> RoomHub::join(const std::string& room, Peer& peer) {
  if (room_of_.count(&peer)) {
    hub_log()->error("internal: a connection joined room {} twice", room);
    return std::nullopt;
  }
  auto& members = rooms_[room];
  if (members.size() >= kPeersPerRoom) return std::nullopt;
  std::string user = make_user_id_();
  // 32 bits of randomness: a collision inside one room is unlikely, but two
  // peers with one id would make every relayed `user` ambiguous.
  for (int tries = 0; tries < 8 && std::any_of(members.begin(), members.end(),
                                               [&](const Member& m) { return m.user == user; });
       ++tries)
    user = make_user_id_();
  members.push_back(Member{&peer, user});
  room_of_[&peer] = room;
  hub_log()->info("{} joined room {} ({} in room)", user, room, members.size());
  const std::string frame = signaling::make_join_frame(room, user);
  for (const Member& m : std::vector<Member>(members))
    if (m.peer != &peer) m.peer->send_text(frame);
  return user;
}

void RoomHub::leave(Peer& peer) {
  auto r = room_of_.find(&peer);
  if (r == room_of_.end()) return;
  std::string room = std::move(r->second);
  room_of_.erase(r);
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  auto& members = it->second;
  auto self = std::find_if(members.begin(), members.end(),
                           [&](const Member& m) { return m.peer == &peer; });
  if (self == members.end()) return;
  std::string user = self->user;
  members.erase(self);
  hub_log()->info("{} left room {} ({} in room)", user, room, members.size());
  std::vector<Member> others = members;
  if (members.empty()) rooms_.erase(it);
  const std::string frame = signaling::make_leave_frame(room, user);
  for (const Member& m : others) m.peer->send_text(frame);
}

const RoomHub::Member* RoomHub::member(const std::string& room, const Peer* self) const {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return nullptr;
  for (const Member& m : it->second)
    if (m.peer == self) return &m;
  return nullptr;
}

const RoomHub::Member* RoomHub::other_member(const std::string& room, const Peer* self) const {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return nullptr;
  for (const Member& m : it->second)
    if (m.peer != self) return &m;
  return nullptr;
}

void RoomHub::relay(Peer& from, std::string_view text) {
  auto r = room_of_.find(&from);
  if (r == room_of_.end()) return;
  const std::string& room = r->second;
  const Member* sender = member(room, &from);
  auto frame = signaling::decode_client_frame(text);
  if (!frame) {
    hub_log()->debug("{} in room {}: dropped a frame that is not a relayed type ({} bytes)",
                 sender ? sender->user : "?", room, text.size());
    return;
  }
  const Member* to = other_member(room, &from);
  if (!to) {
    hub_log()->debug("{} in room {}: {} dropped, nobody else in the room", sender ? sender->user : "?",
                 room, frame->type);
    return;
  }
  hub_log()->debug("{} -> {} in room {}: {} ({} bytes)", sender ? sender->user : "?", to->user, room,
               frame->type, text.size());
  Peer* target = to->peer;
  ++frames_relayed_;
  target->send_text(signaling::relay_frame(*frame, room, to->user));
}

}  // namespace callagent::server
