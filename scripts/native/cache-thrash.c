/* cache-thrash: see cache-writes.h. */
#define HARNESS_NAME "cache-thrash"
#define HANDS_OUT_OBJECTS 0
#include "cache-writes.h"
