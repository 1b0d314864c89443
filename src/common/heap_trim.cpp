#include "common/heap_trim.h"

#include <cstdio>

#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace callagent {

long resident_kib() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return -1;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

HeapTrim trim_heap() {
  HeapTrim t;
  t.rss_before_kib = resident_kib();
#if defined(__GLIBC__)
  t.released = malloc_trim(0) != 0;
#endif
  t.rss_after_kib = resident_kib();
  return t;
}

}  // namespace callagent
