/* eddy.h: the whole public API. */
#ifndef EDDY_H
#define EDDY_H

#include "eddy/errno.h"
#include "eddy/loop.h"
#include "eddy/timer.h"
#include "eddy/loopwatch.h"
#include "eddy/async.h"
#include "eddy/poll.h"
#include "eddy/signal.h"
#include "eddy/stream.h"
#include "eddy/tcp.h"
#include "eddy/pipe.h"
#include "eddy/addr.h"
#include "eddy/udp.h"
#include "eddy/process.h"
#include "eddy/channel.h"
#include "eddy/exec.h"
#include "eddy/tick.h"
#include "eddy/work.h"
#include "eddy/fs.h"
#include "eddy/fs_stream.h"
#include "eddy/dns.h"
#include "eddy/crypto.h"
#include "eddy/http_parser.h"
#include "eddy/http_server.h"
#include "eddy/os.h"
#include "eddy/thread.h"
#include "eddy/resp.h"
#include "eddy/redis.h"
#include "eddy/version.h"

#endif /* EDDY_H */
