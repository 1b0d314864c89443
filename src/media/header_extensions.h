#pragma once
// The RTP header extensions we negotiate: today the transport-wide
// sequence number (transport-cc), which makes the receiver of our packets
// send TWCC feedback (per packet: arrived when, or lost) and lets a
// browser sending to us adapt to our downlink from the feedback we send.
//
// How webrtcbin 1.22 negotiates an extension, and what that asks of us:
// - An offer announces `a=extmap` for the `extmap-N=URI` fields of each
//   transceiver's codec preferences, and `a=rtcp-fb:PT transport-cc` for
//   `rtcp-fb-transport-cc` (webrtcbin was seen adding that one itself for
//   video; we set it for every kind).
//   Our payloaders must write the same id:
//   the extension is added to each of them (one transport-wide sequence
//   over audio and video: with BUNDLE there is one transport).
// - An answer carries extmaps only from our own caps (the payloader's, or a
//   transceiver's codec preferences), never copied from the offer: we read
//   the offer's id and use that one on our payloaders, and an m-line we only
//   receive gets a receive-only transceiver with the extmap in its codec
//   preferences, added before create-answer (webrtcbin makes the m-line's
//   transceiver only at create-answer, and adopts a matching unassociated
//   one; codec preferences set afterwards are too late).
// - The receive side (rtpsession) writes feedback once the negotiated
//   receive caps carry the extmap; the send side (rtpsession again) numbers
//   every packet itself, retransmissions included, once the payloader's caps
//   carry it.
//
// Pure helpers; no state. Called on the main context while negotiating.

#include "signaling/sdp.h"

#include <gst/gst.h>

#include <optional>

namespace callagent::media {

inline constexpr const char* kTwccUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
// The id we offer. 1, because GStreamer 1.22.0's RED encoder writes the
// transport-cc extension with id 1 whatever was negotiated: with any other
// id, turning on ulp-red later would corrupt the sequence.
inline constexpr int kTwccOfferId = 1;

// The transport-cc id of a partner's description (an offer we answer, or
// the answer to ours): the first m-line that has one. nullopt: the partner
// does not do TWCC (we then write no extension).
std::optional<int> twcc_id(const signaling::Sdp& sdp);

// Makes `payloader` write the transport-wide sequence number with `id`.
// false (logged) if the extension or the payloader's `add-extension` is
// missing (GStreamer older than 1.20).
bool add_twcc_extension(GstElement* payloader, int id, int peer_id);

// Adds `extmap-<id>=URI` and `rtcp-fb-transport-cc` (`a=rtcp-fb:PT
// transport-cc`) to every structure of `caps` (writable), for a
// transceiver's codec preferences.
void add_twcc_extmap(GstCaps* caps, int id);

}  // namespace callagent::media
