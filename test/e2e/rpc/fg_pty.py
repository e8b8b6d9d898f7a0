# SPDX-License-Identifier: MIT
# Drives `supervisorctl fg NAME` through a pseudo-terminal, as a user would:
# waits for its banner, types a line (the program, cat, echoes it back through
# its log and /logtail), then presses Ctrl-C. supervisorctl's output thread
# notices that it should stop only when its select() (30 s timeout) returns,
# so after Ctrl-C the program is given a line through sendProcessStdin until
# supervisorctl exits. Prints one JSON document:
#   {"output": what the terminal showed, "status": exit status,
#    "banner": bool, "echoed": bool, "seconds": float}
#
#   /usr/bin/python3 fg_pty.py CONF SOCKET NAME [LINE]
import json
import os
import platform
import pty
import select
import sys
import time
from xmlrpc.client import ServerProxy

from supervisor.xmlrpc import SupervisorTransport

CONF, SOCKET, NAME = sys.argv[1], sys.argv[2], sys.argv[3]
LINE = (sys.argv[4] if len(sys.argv) > 4 else 'hello fg').encode()
T0 = time.monotonic()

pid, fd = pty.fork()
if pid == 0:
    os.execv('/usr/bin/supervisorctl', ['/usr/bin/supervisorctl', '-c', CONF, 'fg', NAME])

out = b''
eof = False


def read_until(pred, timeout):
    """Reads the terminal until pred(output) holds, the child closes it, or the time is up."""
    global out, eof
    deadline = time.monotonic() + timeout
    while not pred(out) and not eof:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child's side is closed
            chunk = b''
        if not chunk:
            eof = True
        out += chunk
    return pred(out)


# Syscalls a thread waits for input in: read, poll, select, pselect6, ppoll,
# futex, epoll_wait/epoll_pwait (x86_64; aarch64 below).
WAITING = {0, 7, 23, 202, 232, 270, 271, 281} if platform.machine() == 'x86_64' else {22, 63, 72, 73, 98}


def idle():
    """Every thread of supervisorctl waits in a syscall: the output thread has
    printed what it got and sits in select(), the main one in read(). A Ctrl-C
    landing while the output thread is inside a handler ends in its
    handle_error ("Cannot connect, error: SystemExit") instead."""
    try:
        for tid in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/syscall' % (pid, tid)) as f:
                if int(f.read().split()[0]) not in WAITING:
                    return False
        return True
    except (OSError, ValueError):
        return False


def wait_idle(timeout):
    deadline = time.monotonic() + timeout
    while not idle() and time.monotonic() < deadline:
        read_until(lambda o: False, 0.01)


banner = read_until(lambda o: b'Press Ctrl-C to exit' in o, 15)
echoed = False
if banner:
    wait_idle(15)
    os.write(fd, LINE + b'\n')
    # once from the terminal's own echo, once from the program's log
    echoed = read_until(lambda o: o.count(LINE) >= 2, 15)
    wait_idle(15)
os.write(fd, b'\x03')
read_until(lambda o: b'Exiting foreground' in o, 15)
rpc = ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, 'unix://' + SOCKET))
deadline = time.monotonic() + 45
while not eof and time.monotonic() < deadline:
    rpc.supervisor.sendProcessStdin(NAME, 'poke\n')
    read_until(lambda o: False, 0.2)
if not eof:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
json.dump({
    'output': out.decode('utf-8', 'replace'),
    'status': os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status),
    'banner': banner,
    'echoed': echoed,
    'seconds': round(time.monotonic() - T0, 2),
}, sys.stdout)
