/* bench/uvnode/addon.c: runs a libuv-side benchmark program (a
 * <workload>/uv.c built with -Dmain=bench_uv_main) inside Node.js, against
 * the libuv that Node carries and exports (1.46.0 in Node 20), so that the
 * libuv release whose loop order eddy follows (docs/loop.md) is
 * a peer next to the distribution's libuv. The program gets its own
 * uv_loop_t (every uv.c calls uv_loop_init), never Node's loop, and runs to
 * the end inside one call from JavaScript: Node's loop is blocked
 * meanwhile, as in any synchronous native call.
 *
 * JavaScript: require(module).run(...args) -> the program's exit status;
 * the program prints its key=value lines on stdout itself. */
#include <node_api.h>
#include <stdio.h>

#define UVNODE_MAX_ARGS 8
#define UVNODE_ARG_BYTES 256

int bench_uv_main(int argc, char **argv);

static napi_value uvnode_run(napi_env env, napi_callback_info info) {
  napi_value args[UVNODE_MAX_ARGS], result;
  char store[UVNODE_MAX_ARGS][UVNODE_ARG_BYTES];
  char *argv[UVNODE_MAX_ARGS + 2] = {"bench"};
  size_t argc = UVNODE_MAX_ARGS, len;
  int status = 2;

  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok)
    goto done;
  if (argc > UVNODE_MAX_ARGS)
    argc = UVNODE_MAX_ARGS;
  for (size_t i = 0; i < argc; i++) {
    if (napi_get_value_string_utf8(env, args[i], store[i], UVNODE_ARG_BYTES,
                                   &len) != napi_ok)
      goto done; /* not a string */
    argv[i + 1] = store[i];
  }
  status = bench_uv_main((int)argc + 1, argv);
  fflush(stdout); /* before Node writes anything of its own */
done:
  napi_create_int32(env, status, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;

  if (napi_create_function(env, "run", NAPI_AUTO_LENGTH, uvnode_run, NULL,
                           &fn) != napi_ok ||
      napi_set_named_property(env, exports, "run", fn) != napi_ok)
    return NULL;
  return exports;
}
