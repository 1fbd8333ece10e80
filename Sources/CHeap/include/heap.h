// glibc's heap controls, which Swift's Glibc module does not import. Elsewhere they do nothing
// and report nothing.
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

/// Hands freed heap pages of every arena back to the kernel; returns 1 if any were released.
static inline int switchboard_heap_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

/// Bytes of heap in use (allocated and not freed), or 0 where unknown.
static inline size_t switchboard_heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

/// Resident set size in bytes (Linux `/proc/self/statm`), or 0 where unknown.
static inline size_t switchboard_resident_bytes(void) {
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm == NULL) return 0;
    unsigned long size = 0, resident = 0;
    int read = fscanf(statm, "%lu %lu", &size, &resident);
    fclose(statm);
    return read == 2 ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}
