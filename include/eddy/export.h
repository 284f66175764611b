/* eddy/export.h: the mark on every function of the public API.
 *
 * The library is compiled with hidden visibility, so the shared library
 * exports exactly the functions declared with EDDY_EXTERN in these headers
 * and nothing of its internals. Programs never need to use the macro. */
#ifndef EDDY_EXPORT_H
#define EDDY_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define EDDY_EXTERN __attribute__((visibility("default")))
#else
#define EDDY_EXTERN
#endif

#endif /* EDDY_EXPORT_H */
