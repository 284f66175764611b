/* version.c: the library version, as built. */
#include "eddy/version.h"

#define EDDY__STR(x) #x
#define EDDY__XSTR(x) EDDY__STR(x)

const char *eddy_version_string(void) {
  return EDDY__XSTR(EDDY_VERSION_MAJOR) "." EDDY__XSTR(
      EDDY_VERSION_MINOR) "." EDDY__XSTR(EDDY_VERSION_PATCH);
}
