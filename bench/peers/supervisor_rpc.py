# SPDX-License-Identifier: MIT
# The bench's XML-RPC client for supervisord, over its unix socket with
# supervisor.xmlrpc.SupervisorTransport (what supervisorctl uses). One long-
# lived process, so polling every 100 ms does not pay Python's start-up each
# time. JSON requests on stdin, one JSON reply per line on stdout:
#   {"op": "wait_up", "timeout": s}        until getState() says RUNNING
#   {"op": "start_all"}                     startAllProcesses(wait=False)
#   {"op": "stop_all"}                      stopAllProcesses(wait=False)
#   {"op": "counts"}                        {"counts": {statename: n}, "pids": [...]}
#   {"op": "wait_states", "states": [...], "n": N, "interval": s, "timeout": s}
#                                           until N processes are in those states
# Run it with /usr/bin/python3 (Debian's, which has the supervisor package).
import json
import sys
import time
from xmlrpc.client import ServerProxy

from supervisor.xmlrpc import SupervisorTransport

SOCKET = sys.argv[1]


def connect():
    return ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, 'unix://' + SOCKET))


proxy = connect()


def reply(**kw):
    sys.stdout.write(json.dumps(kw) + '\n')
    sys.stdout.flush()


def retrying(fn, timeout, interval):
    """Calls fn() until it returns a true value; reconnects after errors (the socket may not exist yet)."""
    global proxy
    deadline = time.monotonic() + timeout
    polls = 0
    last_error = None
    while True:
        polls += 1
        try:
            value = fn()
            if value:
                return value, polls
        except Exception as e:  # refused, no such file, half-open connection, ...
            last_error = e
            proxy = connect()
        if time.monotonic() > deadline:
            raise TimeoutError('timed out after %ss (%d polls, last error %r)' % (timeout, polls, last_error))
        time.sleep(interval)


for line in sys.stdin:
    req = json.loads(line)
    op = req.get('op')
    try:
        if op == 'wait_up':
            _, polls = retrying(lambda: proxy.supervisor.getState()['statecode'] == 1, req['timeout'], 0.02)
            reply(ok=True, polls=polls)
        elif op == 'start_all':
            results = proxy.supervisor.startAllProcesses(False)
            reply(ok=True, started=len(results))
        elif op == 'stop_all':
            results = proxy.supervisor.stopAllProcesses(False)
            reply(ok=True, stopped=len(results))
        elif op == 'counts':
            infos = proxy.supervisor.getAllProcessInfo()
            counts = {}
            for i in infos:
                counts[i['statename']] = counts.get(i['statename'], 0) + 1
            reply(ok=True, counts=counts, pids=[i['pid'] for i in infos if i['pid']])
        elif op == 'wait_states':
            states = set(req['states'])

            def enough():
                infos = proxy.supervisor.getAllProcessInfo()
                return sum(1 for i in infos if i['statename'] in states) >= req['n']

            _, polls = retrying(enough, req['timeout'], req.get('interval', 0.1))
            reply(ok=True, polls=polls)
        else:
            reply(ok=False, error='unknown op %r' % op)
    except Exception as e:
        reply(ok=False, error=repr(e))
