#pragma once
// A time stamp drawn into the picture, for glass-to-glass latency
// (--latency-probe): 64 bits as a 16 x 4 grid of 16x16-pixel black/white
// luma blocks in the top-left corner (256 x 64 px), chroma set neutral.
// The blocks sit on the codec's 16x16 macroblock grid, so VP8/VP9/H.264 at
// any sensible bit rate keep them intact; the reader takes the mean of
// each block's inner 8x8 pixels and refuses a frame whose blocks are not
// clearly black or white, or whose CRC does not match.
//
//   bits  0..47  wall-clock milliseconds (g_get_real_time() / 1000), LSB first
//   bits 48..63  CRC-16/CCITT of those 6 bytes
//
// Works on planar/semi-planar 8-bit YUV (I420, YV12, NV12, Y42B, Y444); the
// caller maps the frame.

#include <gst/video/video.h>

#include <cstdint>
#include <optional>

namespace callagent::media {

inline constexpr int kStampBlock = 16;
inline constexpr int kStampCols = 16;
inline constexpr int kStampRows = 4;

// Whether a frame of this format and size can carry a stamp.
bool can_stamp(const GstVideoInfo& info);
// Draws `ms` into a writable mapped frame.
void write_stamp(GstVideoFrame* frame, uint64_t ms);
// Reads a stamp back; nullopt when there is none (or it is damaged).
std::optional<uint64_t> read_stamp(const GstVideoFrame* frame);

uint16_t crc16_ccitt(const uint8_t* data, size_t n);

}  // namespace callagent::media
