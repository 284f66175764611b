/* fixture.h: what scripts/apidoc.pl --check must accept and refuse. */
#include "export.h"

/* Documented by its own comment. */
EDDY_EXTERN int eddy_fx_own(void);

/* One comment for a group on consecutive lines. */
EDDY_EXTERN int eddy_fx_group_a(void);
EDDY_EXTERN int eddy_fx_group_b(void);

EDDY_EXTERN int eddy_fx_bare(void);

/* ---- a divider ---------------------------------------------------- */
EDDY_EXTERN int eddy_fx_after_divider(void);
