# SPDX-License-Identifier: MIT
# A FastCGI responder for the fcgi-program e2e tests, standard library only.
# As a FastCGI application started by a web server's process manager does, it
# accepts on the listening socket it was given as fd 0 and answers every
# FCGI_RESPONDER request with its own pid and the request's SCRIPT_NAME:
#
#   Status: 200 OK / Content-Type: text/plain / pid=1234 script=/x
#
# At start it prints `listening <sockname>` on stdout, so a test can see which
# socket it got. One connection at a time; FCGI_KEEP_CONN is honoured.
import os
import socket
import struct
import sys

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1
FCGI_REQUEST_COMPLETE = 0
FCGI_UNKNOWN_ROLE = 3

HEADER = struct.Struct('!BBHHBx')


def read_exact(conn, n):
    buf = b''
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_record(conn):
    head = read_exact(conn, HEADER.size)
    if head is None:
        return None
    version, rtype, req_id, clen, plen = HEADER.unpack(head)
    body = read_exact(conn, clen + plen) if clen + plen else b''
    if body is None:
        return None
    return rtype, req_id, body[:clen]


def write_record(conn, rtype, req_id, content):
    # Records carry at most 65535 bytes; padding to 8 is optional.
    for start in range(0, max(len(content), 1), 65535):
        part = content[start:start + 65535]
        conn.sendall(HEADER.pack(FCGI_VERSION_1, rtype, req_id, len(part), 0) + part)


def read_length(buf, i):
    n = buf[i]
    if n < 128:
        return n, i + 1
    return struct.unpack('!I', buf[i:i + 4])[0] & 0x7FFFFFFF, i + 4


def parse_params(buf):
    params = {}
    i = 0
    while i < len(buf):
        nlen, i = read_length(buf, i)
        vlen, i = read_length(buf, i)
        name = buf[i:i + nlen]
        i += nlen
        params[name.decode('latin-1')] = buf[i:i + vlen].decode('latin-1')
        i += vlen
    return params


def serve(conn):
    requests = {}
    while True:
        rec = read_record(conn)
        if rec is None:
            return
        rtype, req_id, body = rec
        if rtype == FCGI_GET_VALUES:
            write_record(conn, FCGI_GET_VALUES_RESULT, 0, b'')
        elif rtype == FCGI_BEGIN_REQUEST:
            role, flags = struct.unpack('!HB5x', body)
            if role != FCGI_RESPONDER:
                write_record(conn, FCGI_END_REQUEST, req_id, struct.pack('!IB3x', 0, FCGI_UNKNOWN_ROLE))
                continue
            requests[req_id] = {'flags': flags, 'params': b''}
        elif rtype == FCGI_ABORT_REQUEST:
            requests.pop(req_id, None)
            write_record(conn, FCGI_END_REQUEST, req_id, struct.pack('!IB3x', 0, FCGI_REQUEST_COMPLETE))
        elif rtype == FCGI_PARAMS and req_id in requests:
            requests[req_id]['params'] += body
        elif rtype == FCGI_STDIN and req_id in requests:
            if body:
                continue  # request body: not needed for these answers
            req = requests.pop(req_id)
            params = parse_params(req['params'])
            answer = 'pid=%d script=%s\n' % (os.getpid(), params.get('SCRIPT_NAME', ''))
            head = 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n'
            write_record(conn, FCGI_STDOUT, req_id, (head + answer).encode())
            write_record(conn, FCGI_STDOUT, req_id, b'')
            write_record(conn, FCGI_END_REQUEST, req_id, struct.pack('!IB3x', 0, FCGI_REQUEST_COMPLETE))
            if not req['flags'] & FCGI_KEEP_CONN:
                return
        elif rtype not in (FCGI_PARAMS, FCGI_STDIN):
            write_record(conn, FCGI_UNKNOWN_TYPE, 0, struct.pack('!B7x', rtype))


def main():
    listener = socket.socket(fileno=0)
    print('listening %s' % (listener.getsockname(),), flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            serve(conn)
        except OSError as e:
            print('connection error: %s' % e, file=sys.stderr, flush=True)
        finally:
            conn.close()


if __name__ == '__main__':
    main()
