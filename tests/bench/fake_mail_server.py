#!/usr/bin/python3
"""A scripted IMAP or SMTP server for ppo-intake's TLS tests: it records every
line a client sends, before and after TLS, so a test can check that no
credential reached a server whose certificate was refused or that offered no
STARTTLS. It serves nothing real: LOGIN/AUTH are answered with a refusal, and
SMTP mail is read and dropped.

  fake_mail_server.py --proto imap|smtp --record FILE
      [--cert C --key K] [--implicit-tls] [--no-starttls]

With --cert/--key it offers STARTTLS (or, with --implicit-tls, speaks TLS from
the first byte); --no-starttls leaves STARTTLS out of the capabilities.
Listens on 127.0.0.1, a free port; prints "READY <port>" once listening.
Every received line is appended to FILE (flushed), prefixed "plain " or "tls ".
Ends with its parent process or on SIGTERM.
"""

import argparse
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading

ARGS = None
TLS_CONTEXT = None
RECORD_LOCK = threading.Lock()


def record(kind, line):
    with RECORD_LOCK:
        with open(ARGS.record, "ab") as f:
            f.write(kind.encode() + b" " + line.rstrip(b"\r\n") + b"\n")
            f.flush()


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.sock = self.request
        self.tls = False
        if ARGS.implicit_tls:
            try:
                self.sock = TLS_CONTEXT.wrap_socket(self.sock, server_side=True)
            except (ssl.SSLError, OSError):
                self.sock = None
                return
            self.tls = True
        self.reader = self.sock.makefile("rb")

    def send(self, text):
        self.sock.sendall(text.encode())

    def readline(self):
        try:
            line = self.reader.readline()
        except (ssl.SSLError, OSError):
            return b""
        if line:
            record("tls" if self.tls else "plain", line)
        return line

    def start_tls(self):
        self.reader = None
        self.sock = TLS_CONTEXT.wrap_socket(self.sock, server_side=True)
        self.tls = True
        self.reader = self.sock.makefile("rb")

    def offers_starttls(self):
        return TLS_CONTEXT is not None and not self.tls and not ARGS.no_starttls

    def handle(self):
        if self.sock is None:
            return
        try:
            if ARGS.proto == "imap":
                self.imap()
            else:
                self.smtp()
        except (ssl.SSLError, OSError, ValueError):
            pass

    def imap(self):
        def caps():
            return "IMAP4rev1" + (" STARTTLS" if self.offers_starttls() else "") + " AUTH=PLAIN"

        self.send("* OK fake IMAP ready\r\n")
        while True:
            line = self.readline()
            if not line:
                return
            parts = line.decode("utf-8", "replace").strip().split(" ", 2)
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else ""
            if cmd == "CAPABILITY":
                self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (caps(), tag))
            elif cmd == "STARTTLS" and self.offers_starttls():
                self.send("%s OK begin TLS\r\n" % tag)
                try:
                    self.start_tls()
                except (ssl.SSLError, OSError):
                    return
            elif cmd in ("LOGIN", "AUTHENTICATE"):
                self.send("%s NO [AUTHENTICATIONFAILED] fake server\r\n" % tag)
            elif cmd == "LOGOUT":
                self.send("* BYE fake\r\n%s OK done\r\n" % tag)
                return
            else:
                self.send("%s BAD fake server\r\n" % tag)

    def smtp(self):
        self.send("220 fake.test ESMTP\r\n")
        while True:
            line = self.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip().split(" ", 1)[0].upper()
            if cmd == "EHLO":
                ext = ["fake.test", "AUTH PLAIN LOGIN"] + (["STARTTLS"] if self.offers_starttls() else [])
                self.send("".join("250-%s\r\n" % e for e in ext[:-1]) + "250 %s\r\n" % ext[-1])
            elif cmd == "HELO":
                self.send("250 fake.test\r\n")
            elif cmd == "STARTTLS" and self.offers_starttls():
                self.send("220 2.0.0 go ahead\r\n")
                try:
                    self.start_tls()
                except (ssl.SSLError, OSError):
                    return
            elif cmd == "AUTH":
                self.send("535 5.7.8 fake server\r\n")
            elif cmd == "DATA":
                self.send("354 go on\r\n")
                while True:
                    body = self.readline()
                    if not body or body.rstrip(b"\r\n") == b".":
                        break
                self.send("250 2.0.0 dropped\r\n")
            elif cmd == "QUIT":
                self.send("221 bye\r\n")
                return
            elif cmd in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.send("250 OK\r\n")
            else:
                self.send("502 5.5.2 fake server\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS, TLS_CONTEXT
    parent = os.getppid()
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto", choices=["imap", "smtp"], required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--no-starttls", action="store_true")
    ARGS = parser.parse_args()
    if ARGS.cert:
        TLS_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        TLS_CONTEXT.load_cert_chain(ARGS.cert, ARGS.key)
    open(ARGS.record, "ab").close()

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write("READY %d\n" % server.server_address[1])
    sys.stdout.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set() and os.getppid() == parent:
        stop.wait(1)
    server.shutdown()


if __name__ == "__main__":
    main()
