/* eddy/version.h: library version. */
#ifndef EDDY_VERSION_H
#define EDDY_VERSION_H

#include "export.h"

#define EDDY_VERSION_MAJOR 0
#define EDDY_VERSION_MINOR 1
#define EDDY_VERSION_PATCH 0

/* The version of the library linked at run time, as "MAJOR.MINOR.PATCH". */
EDDY_EXTERN const char *eddy_version_string(void);

#endif /* EDDY_VERSION_H */
