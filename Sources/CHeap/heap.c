// Inline functions only: see include/heap.h.
#include "heap.h"
