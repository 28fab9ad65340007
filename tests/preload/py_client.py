#!/usr/bin/env python3
"""Python clients for tests/preload.sh (OpenSSL through Python's ssl module).

usage: py_client.py MODE CAFILE HOST PORT ADDRESS [ARG]
  urllib   GET /index.html with urllib (host resolved to ADDRESS by a
           patched getaddrinfo, so SNI and verification use HOST)
  lazy     ssl socket with do_handshake_on_connect=False: the handshake
           happens inside the first write (SSL_write_ex)
  resume   two connections, the second resuming the first's session on a
           fresh SSL object; ARG: 1.2 or 1.3 (maximum TLS version)
  threads  ARG threads x 10 handshakes + GET each, one SSLContext
Prints what it got; exits 0 when every request got the page, 1 on an SSL
error (the message is printed), 2 on a usage error.
"""
import socket
import ssl
import sys
import threading
import urllib.request

if len(sys.argv) < 6:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
mode, cafile, host, port, addr = sys.argv[1:6]
arg = sys.argv[6] if len(sys.argv) > 6 else ""
port = int(port)
ctx = ssl.create_default_context(cafile=cafile)
REQ = ("GET /index.html HTTP/1.0\r\nHost: %s\r\n\r\n" % host).encode()


def fetch(session=None):
    raw = socket.create_connection((addr, port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=host, session=session)
    s.sendall(REQ)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    sess, resumed = s.session, s.session_reused
    s.close()
    return data, sess, resumed


def main():
    if mode == "urllib":
        real = socket.getaddrinfo
        socket.getaddrinfo = lambda h, *a, **k: real(addr if h == host else h, *a, **k)
        body = urllib.request.urlopen("https://%s:%d/index.html" % (host, port), context=ctx, timeout=10).read()
        print("urllib: got %r" % body.strip())
    elif mode == "lazy":
        raw = socket.create_connection((addr, port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
        s.sendall(REQ)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        print("lazy: got %s" % data.decode("latin-1"))
    elif mode == "resume":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if arg == "1.2" else ssl.TLSVersion.TLSv1_3
        data, sess, _ = fetch()
        data2, _, resumed = fetch(sess)
        print("resume %s: first %s, second %s, resumed=%s" % (arg, b"hello" in data, b"hello" in data2, resumed))
        print(data2.decode("latin-1"))
        if not (b"hello" in data and b"hello" in data2 and resumed):
            return 1
    elif mode == "threads":
        errors, oks = [], []

        def worker():
            for _ in range(10):
                try:
                    data, _, _ = fetch()
                    oks.append(b"hello" in data)
                except (ssl.SSLError, OSError) as e:
                    errors.append(str(e))

        ts = [threading.Thread(target=worker) for _ in range(int(arg or 8))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("threads: %d ok, %d failed%s" % (oks.count(True), len(errors), (": " + errors[0]) if errors else ""))
        if not errors and all(oks):
            print("every thread got: hello from the server")
        return 0 if not errors and all(oks) else 1
    else:
        print("py_client: unknown mode %r" % mode, file=sys.stderr)
        return 2
    return 0


try:
    sys.exit(main())
except ssl.SSLError as e:
    print("SSLError: %s" % e)
    sys.exit(1)
except urllib.error.URLError as e:
    print("URLError: %s" % e)
    sys.exit(1)
