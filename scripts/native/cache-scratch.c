/* cache-scratch: see cache-writes.h. */
#define HARNESS_NAME "cache-scratch"
#define HANDS_OUT_OBJECTS 1
#include "cache-writes.h"
