/* handles.c: the registry of handle types, the one file that names them
 * all. Each type's row lives in its own source file; this table gathers
 * the rows by EDDY_HANDLE_TYPE_MAP (include/eddy/loop.h), so the loop
 * reaches a type's close and listen through it and names no type itself.
 * It also gives the types' and the request types' names. */
#include "core/handle.h"

#define EDDY__OPS_DECLARE(name, lower)                                         \
  extern const struct eddy__handle_ops eddy__##lower##_ops;
EDDY_HANDLE_TYPE_MAP(EDDY__OPS_DECLARE)
#undef EDDY__OPS_DECLARE

#define EDDY__OPS_ROW(name, lower) [EDDY_##name] = &eddy__##lower##_ops,
const struct eddy__handle_ops *const eddy__handle_ops[EDDY_HANDLE_TYPE_MAX] = {
    EDDY_HANDLE_TYPE_MAP(EDDY__OPS_ROW)};
#undef EDDY__OPS_ROW

#define EDDY__NAME_ROW(name, lower) [EDDY_##name] = #lower,
static const char *const eddy__handle_names[EDDY_HANDLE_TYPE_MAX] = {
    EDDY_HANDLE_TYPE_MAP(EDDY__NAME_ROW) /* and one that is no handle: */
        [EDDY_FILE] = "file"};
static const char *const eddy__req_names[EDDY_REQ_TYPE_MAX] = {
    EDDY_REQ_TYPE_MAP(EDDY__NAME_ROW)};
#undef EDDY__NAME_ROW

const char *eddy_handle_type_name(eddy_handle_type type) {
  if ((int)type <= EDDY_UNKNOWN_HANDLE || type >= EDDY_HANDLE_TYPE_MAX)
    return NULL;
  return eddy__handle_names[type];
}

const char *eddy_req_type_name(eddy_req_type type) {
  if ((int)type <= EDDY_UNKNOWN_REQ || type >= EDDY_REQ_TYPE_MAX)
    return NULL;
  return eddy__req_names[type];
}
