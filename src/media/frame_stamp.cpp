#include "media/frame_stamp.h"

#include <cstring>

namespace callagent::media {

namespace {
bool yuv8(GstVideoFormat f) {
  switch (f) {
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_YV12:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_NV21:
    case GST_VIDEO_FORMAT_Y42B:
    case GST_VIDEO_FORMAT_Y444:
      return true;
    default:
      return false;
  }
}
}  // namespace

uint16_t crc16_ccitt(const uint8_t* data, size_t n) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

bool can_stamp(const GstVideoInfo& info) {
  return yuv8(GST_VIDEO_INFO_FORMAT(&info)) && GST_VIDEO_INFO_WIDTH(&info) >= kStampBlock * kStampCols &&
         GST_VIDEO_INFO_HEIGHT(&info) >= kStampBlock * kStampRows;
}

void write_stamp(GstVideoFrame* frame, uint64_t ms) {
  if (!can_stamp(frame->info)) return;
  uint8_t bytes[6];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * i));
  const uint64_t word = (ms & 0xFFFFFFFFFFFFULL) | (static_cast<uint64_t>(crc16_ccitt(bytes, 6)) << 48);
  auto* y = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  const int ys = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  for (int bit = 0; bit < 64; ++bit) {
    const uint8_t v = (word >> bit) & 1 ? 235 : 16;
    const int bx = (bit % kStampCols) * kStampBlock, by = (bit / kStampCols) * kStampBlock;
    for (int r = 0; r < kStampBlock; ++r) std::memset(y + (by + r) * ys + bx, v, kStampBlock);
  }
  // Neutral chroma under the stamp: coloured edges would bleed into luma
  // after chroma subsampling in some encoders.
  for (guint c = 1; c < GST_VIDEO_FRAME_N_COMPONENTS(frame) && c < 3; ++c) {
    auto* d = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(frame, c));
    const int stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
    const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
    const int w = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(frame->info.finfo, c, kStampBlock * kStampCols);
    const int h = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(frame->info.finfo, c, kStampBlock * kStampRows);
    for (int r = 0; r < h; ++r)
      for (int x = 0; x < w; ++x) d[r * stride + x * pstride] = 128;
  }
}

std::optional<uint64_t> read_stamp(const GstVideoFrame* frame) {
  if (!can_stamp(frame->info)) return std::nullopt;
  const auto* y = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  const int ys = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  uint64_t word = 0;
  for (int bit = 0; bit < 64; ++bit) {
    const int bx = (bit % kStampCols) * kStampBlock + 4, by = (bit / kStampCols) * kStampBlock + 4;
    int sum = 0;
    for (int r = 0; r < 8; ++r)
      for (int x = 0; x < 8; ++x) sum += y[(by + r) * ys + bx + x];
    const int mean = sum / 64;
    if (mean > 80 && mean < 170) return std::nullopt;  // not a stamp block
    if (mean >= 170) word |= 1ULL << bit;
  }
  const uint64_t ms = word & 0xFFFFFFFFFFFFULL;
  uint8_t bytes[6];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * i));
  if (crc16_ccitt(bytes, 6) != static_cast<uint16_t>(word >> 48)) return std::nullopt;
  return ms;
}

}  // namespace callagent::media
