#!/usr/bin/python3
"""SMTP capture server for integration tests (Debian's python3-aiosmtpd).

Every accepted message is written to --dir as a pair of files:
  msg-000001.eml    the raw RFC 5322 bytes exactly as received after DATA
  msg-000001.json   {"seq", "mail_from", "rcpt_tos", "mail_options", "rcpt_options", "peer",
                     "helo", "auth_login", "tls", "time", "eml"}
The .json file is renamed into place last, so a reader that sees it sees a complete message.

Options:
  --port 0                 0 = any free port; the bound port is printed as JSON on stdout
  --tls {none,starttls,implicit}
  --cert F --key F         the certificate (self-signed, made by the caller) for starttls/implicit
  --require-starttls       refuse MAIL before STARTTLS
  --auth-user U --auth-password P   enable AUTH PLAIN/LOGIN with this one account
  --require-auth           refuse MAIL before AUTH
  --auth-require-tls       offer AUTH only after STARTTLS (the default when --tls starttls)
  --control-file F         JSON re-read on every command (see SmtpCapture.set_behaviour in
                           tests/integration/peers.py): {"rcpt_codes": {"addr": "550 ..."},
                           "mail_code": "451 ...", "data_code": "452 ...", "data_delay_ms": 0}
  --ready-file F           write {"port": N, "pid": N} there once listening
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def load_control(path: str | None) -> dict:
    if not path:
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class CaptureHandler:
    def __init__(self, out_dir: str, control_file: str | None, implicit_tls: bool = False):
        self.out_dir = out_dir
        self.implicit_tls = implicit_tls
        self.control_file = control_file
        existing = [n for n in os.listdir(out_dir) if n.startswith("msg-") and n.endswith(".json")]
        self.seq = len(existing)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code = load_control(self.control_file).get("mail_code")
        if code:
            return code
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        codes = load_control(self.control_file).get("rcpt_codes", {})
        if address in codes:
            return codes[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        ctl = load_control(self.control_file)
        if ctl.get("data_delay_ms"):
            await asyncio.sleep(ctl["data_delay_ms"] / 1000)
        if ctl.get("data_code"):
            return ctl["data_code"]
        self.seq += 1
        base = os.path.join(self.out_dir, f"msg-{self.seq:06d}")
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        meta = {
            "seq": self.seq,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "peer": list(session.peer) if session.peer else None,
            "helo": session.host_name,
            "auth_login": login,
            "tls": self.implicit_tls or session.ssl is not None,
            "time": time.time(),
            "eml": os.path.basename(base + ".eml"),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 OK: queued as " + str(self.seq)


def make_authenticator(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticator


async def serve(args) -> int:
    os.makedirs(args.dir, exist_ok=True)
    handler = CaptureHandler(args.dir, args.control_file, implicit_tls=args.tls == "implicit")
    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    auth_kwargs = {}
    if args.auth_user:
        auth_kwargs = dict(
            authenticator=make_authenticator(args.auth_user, args.auth_password or ""),
            auth_required=args.require_auth,
            auth_require_tls=(args.auth_require_tls if args.auth_require_tls is not None
                              else args.tls == "starttls"),
        )
    else:
        auth_kwargs = dict(auth_require_tls=False)

    def factory():
        return SMTP(
            handler,
            hostname="comms-test-smtp",
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=args.max_size,
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.require_starttls and args.tls == "starttls",
            **auth_kwargs,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host=args.host, port=args.port,
                                      ssl=context if args.tls == "implicit" else None,
                                      reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    info = json.dumps({"port": port, "pid": os.getpid()})
    print(info, flush=True)
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(info + "\n")
        os.replace(args.ready_file + ".tmp", args.ready_file)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="SMTP capture server for tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--auth-user")
    ap.add_argument("--auth-password")
    ap.add_argument("--require-auth", action="store_true")
    ap.add_argument("--auth-require-tls", dest="auth_require_tls", action="store_true", default=None)
    ap.add_argument("--no-auth-require-tls", dest="auth_require_tls", action="store_false")
    ap.add_argument("--control-file")
    ap.add_argument("--ready-file")
    ap.add_argument("--max-size", type=int, default=33554432)
    args = ap.parse_args(argv)
    if args.tls != "none" and not (args.cert and args.key):
        ap.error("--tls needs --cert and --key")
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
