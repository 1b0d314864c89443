// The transition tables of SignalingClient and WsClient.
#include "signaling/signaling_client.h"
#include "signaling/ws_client.h"

#include <catch2/catch.hpp>

using namespace callagent::signaling;

TEST_CASE("SignalingClient: the main path is legal") {
  using S = SignalingClient::State;
  CHECK(SignalingClient::is_legal_transition(S::Idle, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::LoggingIn, S::Connecting));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::Joining));
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Connected));
  CHECK(SignalingClient::is_legal_transition(S::Connected, S::Closing));
  CHECK(SignalingClient::is_legal_transition(S::Closing, S::Stopped));
}

TEST_CASE("SignalingClient: reconnect and re-login paths are legal") {
  using S = SignalingClient::State;
  CHECK(SignalingClient::is_legal_transition(S::Connected, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::Connecting));
  CHECK(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::LoggingIn, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::WaitingToReconnect));  // refused while reconnecting
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Failed));              // refused the first time
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Closing));             // stop() while joining
}

TEST_CASE("SignalingClient: final states stay final, and shortcuts are illegal") {
  using S = SignalingClient::State;
  for (S to : {S::Idle, S::LoggingIn, S::Connecting, S::Joining, S::Connected, S::WaitingToReconnect,
               S::Closing, S::Stopped, S::Failed}) {
    CHECK_FALSE(SignalingClient::is_legal_transition(S::Stopped, to));
    CHECK_FALSE(SignalingClient::is_legal_transition(S::Failed, to));
  }
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Idle, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Connecting, S::Connected));  // admission first
  CHECK_FALSE(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Closing, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Connected, S::Stopped));  // must close first
}

TEST_CASE("WsClient transitions") {
  using S = WsClient::State;
  CHECK(WsClient::is_legal_transition(S::Idle, S::Connecting));
  CHECK(WsClient::is_legal_transition(S::Connecting, S::Open));
  CHECK(WsClient::is_legal_transition(S::Connecting, S::Failed));
  CHECK(WsClient::is_legal_transition(S::Open, S::Closing));
  CHECK(WsClient::is_legal_transition(S::Open, S::Closed));
  CHECK(WsClient::is_legal_transition(S::Closing, S::Closed));
  CHECK_FALSE(WsClient::is_legal_transition(S::Closed, S::Open));
  CHECK_FALSE(WsClient::is_legal_transition(S::Failed, S::Connecting));
  CHECK_FALSE(WsClient::is_legal_transition(S::Idle, S::Open));
}
