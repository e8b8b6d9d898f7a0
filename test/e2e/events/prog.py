# SPDX-License-Identifier: MIT
# The supervised programs of the event e2e tests (one script, a mode each).
#   chatty   a few writes to stdout and stderr (non-ASCII included), exit 0
#   talker   capture mode: text between the XSUPERVISOR tokens on stdout and
#            stderr, plain text around it, exit 0
#   exit N   exit with status N at once
#   burst N  N MiB of a known pattern to stdout in 64 KiB writes, exit 0
#   sleep    sleep until killed
import os
import sys
import time

from supervisor import childutils

mode = sys.argv[1]


def out(fd, data):
    # one write() per call, so a reader sees each as one chunk at most
    os.write(fd, data)


if mode == 'chatty':
    out(1, b'hello from chatty\n')
    # stderr: one write, so one read, so one 'Undecodable: b...' payload
    out(2, b'oops on stderr, bad utf-8: \xff\xfe end\n')
    out(1, 'h\u00e9llo w\u00f6rld \u2603\n'.encode('utf-8'))
elif mode == 'talker':
    out(1, b'before the capture, on stdout\n')
    childutils.pcomm.send(b'captured text one', sys.stdout.buffer)
    out(1, b'between the captures, on stdout\n')
    childutils.pcomm.send('captured \u00e9 two\nsecond line'.encode('utf-8'), sys.stdout.buffer)
    childutils.pcomm.send(b'captured on stderr, longer than its capture_maxbytes', sys.stderr.buffer)
    out(1, b'after the captures, long enough to be logged by supervisord\n')
    out(2, b'plain stderr text after the capture, long enough to be logged\n')
    # the first bytes of a token, then EOF: supervisord holds them back
    # waiting for the rest and never logs them; fastvisor logs them at exit
    out(1, b'<!--XSUPERVISOR:BEG')
elif mode == 'exit':
    sys.exit(int(sys.argv[2]))
elif mode == 'burst':
    mib = int(sys.argv[2])
    block = bytes(range(256)) * 256  # 64 KiB, every byte value
    for i in range(mib * 16):
        view = memoryview(block)
        while view:
            n = os.write(1, view)
            view = view[n:]
elif mode == 'sleep':
    while True:
        time.sleep(60)
else:
    sys.exit('unknown mode ' + mode)
