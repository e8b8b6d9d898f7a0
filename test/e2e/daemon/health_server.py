# SPDX-License-Identifier: MIT
# A child for the health check e2e tests, steered by files the test creates
# in DIR; what it does goes to DIR/NAME.rec, one line each.
#
#   health_server.py PORT DIR NAME http   GET anything: 200 `ok`, or 503 `sick`
#                                         while DIR/NAME.fail exists
#   health_server.py PORT DIR NAME tcp    listens (accepts and closes) only
#                                         once DIR/NAME.listen exists
#
# SIGTERM is recorded (`signal SIGTERM`) and ends it with status 0.
import http.server
import os
import signal
import socket
import sys
import time

PORT = int(sys.argv[1])
DIR, NAME, MODE = sys.argv[2:5]


def rec(line):
    with open(os.path.join(DIR, NAME + '.rec'), 'a') as f:
        f.write(line + '\n')


def on_term(signum, frame):
    rec('signal SIGTERM')
    sys.exit(0)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sick = os.path.exists(os.path.join(DIR, NAME + '.fail'))
        code, body = (503, b'sick\n') if sick else (200, b'ok\n')
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        rec('GET %s %d %s' % (self.path, code, self.headers.get('User-Agent', '-')))

    def log_message(self, *args):
        pass


def main():
    signal.signal(signal.SIGTERM, on_term)
    rec('start pid=%d' % os.getpid())
    if MODE == 'http':
        http.server.HTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
    elif MODE == 'tcp':
        while not os.path.exists(os.path.join(DIR, NAME + '.listen')):
            time.sleep(0.02)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', PORT))
        s.listen(16)
        rec('listening')
        while True:
            c, _ = s.accept()
            c.close()
    else:
        raise SystemExit('unknown mode %r' % MODE)


main()
