// bench/uvnode/run.js MODULE [ARGS...]: load a bench_<workload>_uvnode.node
// module (addon.c) and run its program with ARGS; exits with its status.
'use strict';
const path = require('path');
const mod = require(path.resolve(process.argv[2]));
process.exitCode = mod.run(...process.argv.slice(3));
