#!/usr/bin/env python3
"""A threaded HTTPS file server for tests/preload.sh that logs what it receives.

usage: tls_server.py ADDRESS PORT CERT CHAIN_OR_- KEY DOCROOT LOG
Serves DOCROOT over HTTP/1.0 (GET and HEAD; enough for a dumb-HTTP git
clone). Every request line that arrives is appended to LOG, so a test can
tell that no application data reached the server. Prints "ready" on stdout
once listening.
"""
import http.server
import os
import ssl
import sys

addr, port, cert, chain, key, root, log = sys.argv[1:8]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
if chain != "-":
    both = log + ".chain.pem"
    with open(both, "w") as f:
        f.write(open(cert).read() + open(chain).read())
    cert = both
ctx.load_cert_chain(cert, key)
logf = open(log, "a", buffering=1)


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)

    def parse_request(self):
        logf.write("request: %s\n" % self.raw_requestline.decode("latin-1").strip())
        return super().parse_request()

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, peer = super().get_request()
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), peer

    def shutdown_request(self, request):
        try:  # close_notify: OpenSSL 3 clients treat a bare EOF as an error
            request.unwrap()
        except (OSError, ValueError):
            pass
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        logf.write("error: %s\n" % (sys.exc_info()[1],))


srv = Server((addr, int(port)), Handler)
print("ready", flush=True)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
