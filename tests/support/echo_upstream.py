#!/usr/bin/python3
"""Echo upstreams for the nginx tests: they answer every request with exactly what nginx
handed them, in order and duplicates included, as text/plain. Python stdlib only.

    echo_upstream.py --fastcgi SOCKET_PATH --http PORT

FastCGI on a unix socket: one "NAME=VALUE" line per param.
HTTP on 127.0.0.1:PORT, any method and path: the request line, then one "Name: value"
line per header as sent.
Prints "ready" once both listen.
"""

import argparse
import os
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6
KEEP_CONN = 1


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_record(conn):
    _, kind, request_id, length, padding, _ = struct.unpack("!BBHHBB", read_exact(conn, 8))
    body = read_exact(conn, length + padding)[:length]
    return kind, request_id, body


def write_record(conn, kind, request_id, body=b""):
    conn.sendall(struct.pack("!BBHHBB", 1, kind, request_id, len(body), 0, 0) + body)


def pair_length(data, at):
    if data[at] < 128:
        return data[at], at + 1
    return struct.unpack("!I", data[at:at + 4])[0] & 0x7FFFFFFF, at + 4


def parse_params(data):
    pairs, at = [], 0
    while at < len(data):
        name_len, at = pair_length(data, at)
        value_len, at = pair_length(data, at)
        pairs.append((data[at:at + name_len], data[at + name_len:at + name_len + value_len]))
        at += name_len + value_len
    return pairs


def serve(conn):
    with conn:
        try:
            while True:
                params, keep = b"", False
                while True:
                    kind, request_id, body = read_record(conn)
                    if kind == BEGIN_REQUEST:
                        keep = bool(body[2] & KEEP_CONN)
                    elif kind == PARAMS:
                        params += body
                    elif kind == STDIN and not body:
                        break
                lines = b"".join(name + b"=" + value + b"\n" for name, value in parse_params(params))
                write_record(conn, STDOUT, request_id, b"Content-Type: text/plain\r\n\r\n" + lines)
                write_record(conn, STDOUT, request_id)
                write_record(conn, END_REQUEST, request_id, struct.pack("!IB3x", 0, 0))
                if not keep:
                    return
        except (EOFError, ConnectionError):
            return


class HttpEcho(BaseHTTPRequestHandler):
    def answer(self):
        lines = [self.requestline] + [f"{name}: {value}" for name, value in self.headers.items()]
        body = ("\n".join(lines) + "\n").encode("utf-8", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = answer

    def log_message(self, *args):
        pass


def serve_fastcgi(server):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fastcgi", required=True)
    parser.add_argument("--http", type=int, required=True)
    args = parser.parse_args()
    if os.path.exists(args.fastcgi):
        os.unlink(args.fastcgi)
    fastcgi = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    fastcgi.bind(args.fastcgi)
    os.chmod(args.fastcgi, 0o666)
    fastcgi.listen(64)
    http = ThreadingHTTPServer(("127.0.0.1", args.http), HttpEcho)
    threading.Thread(target=serve_fastcgi, args=(fastcgi,), daemon=True).start()
    print("ready", flush=True)
    http.serve_forever()


if __name__ == "__main__":
    main()
