#pragma once
// Who is in which room right now, and the relay between them (the WebSocket
// part of the signaling protocol, docs/protocol.md). No sockets here:
// connections appear as Peers, so unit tests drive joins, relays and leaves
// with fakes.
//
// - join(): at most two connections per room; the newcomer gets a user id
//   `user_` + 8 hex, and the one already there gets the server-made join.
// - relay(): join/offer/answer/ice-candidate/chat go to the other connection
//   (if any) with `room` overwritten and `user` set to the RECEIVER's id,
//   `data` as sent; anything else is dropped silently.
// - leave(): the other connection gets the server-made leave.
//
// The hub borrows Peers: a Peer must leave() before it is destroyed.
// Everything runs on the main thread; send_text() must not call back into
// the hub synchronously (WsConnection reports closes asynchronously).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace callagent::server {

class Peer {
 public:
  virtual ~Peer() = default;
  virtual void send_text(const std::string& text) = 0;
};

class RoomHub {
 public:
  static constexpr std::size_t kPeersPerRoom = 2;
  using UserIdMaker = std::function<std::string()>;

  explicit RoomHub(UserIdMaker make_user_id = &RoomHub::random_user_id);

  // The new user id of `peer`, or nullopt when `room` is full.
  std::optional<std::string> join(const std::string& room, Peer& peer);
  void leave(Peer& peer);
  void relay(Peer& from, std::string_view text);

  bool full(const std::string& room) const;
  std::size_t connections() const { return room_of_.size(); }
  std::size_t active_rooms() const { return rooms_.size(); }
  // Frames delivered to the other member of a room since the hub was made.
  uint64_t frames_relayed() const { return frames_relayed_; }

  static std::string random_user_id();  // "user_" + 8 hex

 private:
  struct Member {
    Peer* peer;
    std::string user;
  };
  const Member* other_member(const std::string& room, const Peer* self) const;
  const Member* member(const std::string& room, const Peer* self) const;

  UserIdMaker make_user_id_;
  std::unordered_map<std::string, std::vector<Member>> rooms_;
  std::unordered_map<const Peer*, std::string> room_of_;
  uint64_t frames_relayed_ = 0;
};

}  // namespace callagent::server
