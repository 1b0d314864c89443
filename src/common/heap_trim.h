#pragma once
// Hands the C allocator's free memory back to the system, and says how much
// of the process stayed resident.
//
// Why it exists: glibc's malloc keeps freed memory in its arenas (one per
// thread that allocated, up to eight per core) and returns by itself only
// the top of each heap. Every partner visit starts and joins a dozen
// GStreamer threads (webrtcbin, libnice, DTLS, queues, jitter buffers) whose
// allocations land in those arenas and are freed, scattered, when the peer
// is retired; the pages stay resident and a kiosk's RSS climbs visit after
// visit although no GstObject, thread or fd is left behind (docs/measurements.md, "Memory across partner
// visits"). malloc_trim(0) gives the free pages of every arena back
// (madvise), so the media engine calls trim_heap() after it destroyed a
// retired peer. Elsewhere than glibc it only reads the RSS.
//
// Thread: any; it takes the allocator's locks one arena at a time (a few
// milliseconds for a process of this size).

namespace callagent {

struct HeapTrim {
  long rss_before_kib = -1;  // -1: /proc/self/statm unreadable
  long rss_after_kib = -1;
  bool released = false;  // the allocator returned memory
};

HeapTrim trim_heap();

// VmRSS of this process in KiB, or -1.
long resident_kib();

}  // namespace callagent
