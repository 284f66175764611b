/* errno.c: names and messages for eddy's error codes. */
#include "eddy/errno.h"

const char *eddy_err_name(int err) {
  switch (err) {
#define EDDY__NAME_CASE(name, msg) \
  case EDDY_##name:                \
    return #name;
    EDDY_ERRNO_LIST(EDDY__NAME_CASE)
#undef EDDY__NAME_CASE
#define EDDY__EAI_NAME_CASE(name, value, msg) \
  case EDDY_##name:                           \
    return #name;
    EDDY_EAI_LIST(EDDY__EAI_NAME_CASE)
#undef EDDY__EAI_NAME_CASE
  case EDDY_EMAXBUFFER:
    return "EMAXBUFFER";
  case EDDY_EOF:
    return "EOF";
  case 0:
    return "OK";
  default:
    return "UNKNOWN";
  }
}

const char *eddy_strerror(int err) {
  switch (err) {
#define EDDY__MSG_CASE(name, msg) \
  case EDDY_##name:               \
    return msg;
    EDDY_ERRNO_LIST(EDDY__MSG_CASE)
#undef EDDY__MSG_CASE
#define EDDY__EAI_MSG_CASE(name, value, msg) \
  case EDDY_##name:                          \
    return msg;
    EDDY_EAI_LIST(EDDY__EAI_MSG_CASE)
#undef EDDY__EAI_MSG_CASE
  case EDDY_EMAXBUFFER:
    return "maximum buffer size exceeded";
  case EDDY_EOF:
    return "end of file";
  case 0:
    return "success";
  default:
    return "unknown error";
  }
}

int eddy_translate_sys_error(int sys_errno) {
  /* On POSIX eddy's codes are the negated errno values. */
  return sys_errno <= 0 ? sys_errno : -sys_errno;
}
