// libFuzzer's driver entry, for a fuzz target whose executable keeps its own main (SwiftPM links
// every executable's main itself). Only linked when built with -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
