#!/usr/bin/python3
"""A capturing SMTP server for ppo-intake's integration tests (python3-aiosmtpd).

Every accepted message is written to DIR as NNNNNN.eml (the DATA exactly as
received, dot-unstuffed, CRLF kept) plus NNNNNN.json with the envelope:
{"mail_from": ..., "rcpt_to": [...], "mail_options": [...], "auth_user": ...,
"tls": bool, "peer_port": the client's port (same port = same connection)}.
Both files are written to a temporary name and renamed, the .json last, so
a reader that lists *.json sees only complete messages.
Numbering follows arrival order and continues after messages are removed.

DIR/control.json {"fail_temporarily": N} makes RCPT TO answer
"451 4.3.0 ..." while N > 0 (N is decremented per refusal); likewise
{"fail_permanently": N} answers "550 5.1.1 ...".

Run with the system python (/usr/bin/python3), which has aiosmtpd:
  smtp_capture.py --host 127.0.0.1 --port 0 --dir DIR
      [--tls-cert C --tls-key K [--implicit-tls]] [--auth user:pass]
Port 0 picks a free port. Once listening it prints "READY <port>" on stdout.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Capture:
    def __init__(self, directory):
        self.dir = directory
        self.next = 1 + max(
            [int(n[:6]) for n in os.listdir(directory) if n[:6].isdigit() and n.endswith(".json")],
            default=0,
        )

    def _write(self, name, data):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.dir, name))

    def _control(self):
        path = os.path.join(self.dir, "control.json")
        try:
            with open(path, "rb") as f:
                return json.loads(f.read() or b"{}")
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}

    def _take(self, key):
        """Decrements control[key] when positive; True if it was."""
        control = self._control()
        n = int(control.get(key, 0) or 0)
        if n <= 0:
            return False
        control[key] = n - 1
        self._write("control.json", json.dumps(control).encode())
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._take("fail_temporarily"):
            return "451 4.3.0 Temporary failure (test capture server)"
        if self._take("fail_permanently"):
            return "550 5.1.1 Mailbox unavailable (test capture server)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = "%06d" % self.next
        self.next += 1
        auth_user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "auth_user": auth_user,
            "tls": session.ssl is not None
            or (server.transport is not None and server.transport.get_extra_info("ssl_object") is not None),
            "peer_port": session.peer[1] if session.peer else 0,
        }
        self._write(number + ".eml", bytes(envelope.original_content))
        self._write(number + ".json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        return "250 2.0.0 OK queued as " + number


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        ):
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    return authenticator


async def main():
    parent = os.getppid()   # before READY: the test process may end right after reading it
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", help="user:password; AUTH becomes required")
    args = parser.parse_args()

    capture = Capture(args.dir)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    kwargs = dict(enable_SMTPUTF8=True, decode_data=False, hostname="capture.test", timeout=60)
    if tls_context is not None and not args.implicit_tls:
        kwargs["tls_context"] = tls_context
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs["authenticator"] = make_authenticator(user, password)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = False

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(capture, loop=loop, **kwargs),
        host=args.host,
        port=args.port,
        ssl=tls_context if args.implicit_tls else None,
        reuse_address=True,
    )
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()

    async def watch_parent(parent):
        # Ends with the test process even if it dies without stopping us.
        while os.getppid() == parent:
            await asyncio.sleep(1)
        stop.set()

    watcher = asyncio.ensure_future(watch_parent(parent))
    await stop.wait()
    watcher.cancel()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
