#!/usr/bin/python3
"""A small HTTP/1.1 server for the HTTP client tests (Python stdlib only).

    http_test_server.py --port N [--tls CERT KEY]

Routes:
  /echo                         JSON: method, path, query, headers ([name, value] pairs), body
  /status/NNN                   that status with a small body
  /slow?ms=N                    sleeps N ms, then answers
  /hang                         never answers; returns once the client goes away
  /big?bytes=N[&chunked=1]      N bytes of 'x', with Content-Length or chunked
  /drip?bytes=N&interval_ms=M   N bytes (Content-Length), one every M ms
  /headers?count=N&size=M       N extra headers X-Test-I, each value M bytes
  /redirect?to=URL              302 to URL
  /conn                         JSON {"conn": id}, id unique per TCP connection (proves keep-alive)

Prints "ready" once listening.
"""

import argparse
import itertools
import json
import select
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_conn_ids = itertools.count(1)
_conn_lock = threading.Lock()


def _int_arg(query, name, default):
    try:
        return int(query.get(name, [default])[0])
    except (TypeError, ValueError):
        return default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise
    server_version = "http-test-server"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def setup(self):
        # With TLS the handshake runs here, in the connection's thread, so a client
        # that refuses the certificate never stalls the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        with _conn_lock:
            self.conn_id = next(_conn_ids)
        super().setup()

    def log_message(self, format, *args):  # keep test output quiet
        pass

    # ---- helpers ---------------------------------------------------------
    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body, content_type="text/plain", extra_headers=()):
        if status < 200 or status in (204, 304):
            body = b""  # these never carry a body; bytes sent anyway would corrupt keep-alive
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, obj, status=200):
        self._send(status, json.dumps(obj).encode(), "application/json")

    # ---- dispatch --------------------------------------------------------
    def _handle(self):
        body = self._read_body()
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        path = url.path

        if path == "/echo":
            self._send_json({
                "method": self.command,
                "path": path,
                "query": url.query,
                "headers": [[k, v] for k, v in self.headers.items()],
                # latin-1 maps every byte to one code point, so binary bodies survive
                "body": body.decode("latin-1"),
            })
        elif path.startswith("/status/"):
            try:
                status = int(path[len("/status/"):])
            except ValueError:
                status = 400
            self._send(status, ("status %d\n" % status).encode())
        elif path == "/slow":
            time.sleep(_int_arg(query, "ms", 1000) / 1000.0)
            self._send(200, b"slow\n")
        elif path == "/hang":
            self._hang()
        elif path == "/big":
            self._big(_int_arg(query, "bytes", 0), query.get("chunked", ["0"])[0] == "1")
        elif path == "/drip":
            self._drip(_int_arg(query, "bytes", 10), _int_arg(query, "interval_ms", 100))
        elif path == "/headers":
            count = _int_arg(query, "count", 10)
            size = _int_arg(query, "size", 100)
            extra = [("X-Test-%d" % i, "v" * size) for i in range(count)]
            self._send(200, b"headers\n", extra_headers=extra)
        elif path == "/redirect":
            self._send(302, b"moved\n", extra_headers=[("Location", query.get("to", ["/echo"])[0])])
        elif path == "/conn":
            self._send_json({"conn": self.conn_id})
        else:
            self._send(404, b"not found\n")

    def _hang(self):
        # Waits until the client closes (recv gives b"" or fails); a minute at most.
        deadline = time.monotonic() + 60
        sock = self.connection
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                try:
                    if not sock.recv(4096):
                        break
                except (OSError, ssl.SSLError):
                    break
        self.close_connection = True

    def _big(self, size, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"x" * 65536
        left = size
        try:
            while left > 0:
                piece = block[:min(left, len(block))]
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self.wfile.write(piece)
                left -= len(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def _drip(self, size, interval_ms):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for _ in range(size):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(interval_ms / 1000.0)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that refuse our certificate or hang up are part of the tests.
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
