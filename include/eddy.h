/* eddy.h: the whole public API. */
#ifndef EDDY_H
#define EDDY_H

#include "eddy/addr.h"
#include "eddy/async.h"
#include "eddy/channel.h"
#include "eddy/crypto.h"
#include "eddy/dns.h"
#include "eddy/errno.h"
#include "eddy/exec.h"
#include "eddy/fs.h"
#include "eddy/http_parser.h"
#include "eddy/http_server.h"
#include "eddy/loop.h"
#include "eddy/loopwatch.h"
#include "eddy/os.h"
#include "eddy/pipe.h"
#include "eddy/poll.h"
#include "eddy/process.h"
#include "eddy/redis.h"
#include "eddy/resp.h"
#include "eddy/signal.h"
#include "eddy/stream.h"
#include "eddy/tcp.h"
#include "eddy/thread.h"
#include "eddy/tick.h"
#include "eddy/timer.h"
#include "eddy/timers_node.h"
#include "eddy/udp.h"
#include "eddy/version.h"
#include "eddy/work.h"

#endif /* EDDY_H */
