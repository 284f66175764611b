/* eddy/version.h: library version.
 *
 * These three numbers are the one place the version is written: CMake
 * reads them for project(VERSION), the shared library's SONAME, the CMake
 * package's version file and eddy.pc (CHANGELOG.md says how to bump it).
 * While MAJOR is 0, every MINOR release may break the ABI: the SONAME is
 * libeddy.so.MAJOR.MINOR and find_package(eddy 0.1) accepts 0.1.x only. */
#ifndef EDDY_VERSION_H
#define EDDY_VERSION_H

#include "export.h"

#define EDDY_VERSION_MAJOR 0
#define EDDY_VERSION_MINOR 1
#define EDDY_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked at run time, as "MAJOR.MINOR.PATCH". */
EDDY_EXTERN const char *eddy_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_VERSION_H */
