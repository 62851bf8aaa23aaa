#!/usr/bin/python3
"""A contract-faithful fake of the Africa's Talking SMS API, for integration tests.

Run:  /usr/bin/python3 tests/peers/fake_africastalking.py [--port 0] [--control-port 0]
          [--username sandbox] [--api-key test-api-key] [--callback-url URL] [--ready-file F]

On start it prints one JSON line to stdout, e.g. {"port": 41234, "control_port": 41235}, and
(with --ready-file) writes the same JSON to that file atomically.

The API (see docs/testing.md for the full contract):
  POST /version1/messaging   form fields username, to (comma-joined), message, from?, enqueue?,
                             bulkSMSMode?, keyword?, linkId?, retryDurationInHours?
                             headers apiKey, Accept: application/json (otherwise XML is returned)
    201 + JSON {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: ZMW 0.2500",
               "Recipients": [{"statusCode": 101, "number": "+260971234567", "status": "Success",
                               "cost": "ZMW 0.2500", "messageId": "ATXid_<uuid>"}]}}
    401 text  "The supplied authentication is invalid"   (wrong/missing apiKey or username)
    400 text  on missing fields

The control API (JSON) is served under /_control/ on the main port and on the separate control
port (which keeps answering while the main port is "down"):
  POST /_control/reset                     forget config, messages, stats; release hung requests
  GET  /_control/config                    current config
  POST /_control/config   {...}            merge keys into the config (see DEFAULT_CONFIG)
  GET  /_control/stats                     request/message counters, per (number, message) counts
  GET  /_control/messages                  every accepted message (number, message, messageId, time)
  GET  /_control/requests                  every request to the API (fields, headers, response)
  GET  /_control/dlrs                      every delivery report attempt and its outcome
  POST /_control/dlr      {"messageId": ..., "status": ..., ...}   send one delivery report now
  GET  /_control/health                    {"ok": true}
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as xml_escape

STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
ACCEPTED_CODES = {100, 101, 102}
DLR_STATUSES = {"Sent", "Submitted", "Buffered", "Rejected", "Success", "Failed", "Expired",
                "AbsentSubscriber"}
AUTH_FAILED_BODY = "The supplied authentication is invalid"

# Zambia: MCC 645; MNC 01 Airtel, 02 MTN, 03 Zamtel.  Used as the DLR networkCode.
NETWORK_CODES = [("+26097", "64501"), ("+26077", "64501"), ("+26096", "64502"),
                 ("+26076", "64502"), ("+26095", "64503"), ("+26075", "64503")]

DEFAULT_CONFIG = {
    # authentication
    "force_401": False,            # every API request answers 401
    # per-recipient outcome
    "recipient_status": {},        # {"+260971234567": 403, ...}
    "fail_every_nth": None,        # {"n": 3, "status_code": 500}: every n-th recipient overall
    "default_status_code": 101,    # status of recipients without a rule (100, 101 or 102)
    # whole-request faults, checked in this order: down, hangup, hang, burst, error_rate
    "down": False,                 # main port: close every new connection at once (RST)
    "hangup": False,               # read the request, then close the connection without answering
    "hang": False,                 # read the request and never answer (until reset or shutdown)
    "burst": None,                 # {"count": 3, "status": 503}: the next `count` requests fail
    "error_rate": 0.0,             # probability that a request fails with error_status
    "error_status": 500,
    "seed": None,                  # seed for error_rate's RNG (set together with error_rate)
    "delay_ms": 0,                 # delay before every API answer (also before faults)
    # money
    "currency": "ZMW",
    "unit_cost": "0.2500",         # per SMS segment (GSM-7: 160/153, UCS-2: 70/67)
    # delivery reports
    "dlr": {
        "enabled": False,
        "callback_url": None,      # falls back to --callback-url
        "delay_ms": 100,
        "statuses": ["Success"],   # reports sent in order for each accepted message
        "per_number": {},          # {"+260...": {"statuses": ["Failed"], "failureReason": "..."}}
        "failure_reason": "DeliveryFailure",
        "retry_count": 0,
        "network_code": None,      # None: derived from the number's prefix
        "attempts": 1,             # POST attempts per report when the callback fails
        "retry_delay_ms": 200,
        "timeout_s": 5,
    },
}


def gsm7_segments(text: str) -> tuple[int, bool]:
    gsm = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
    ext = "^{}\\[~]|€\f"
    units = 0
    for ch in text:
        if ch in gsm:
            units += 1
        elif ch in ext:
            units += 2
        else:
            return ucs2_segments(text), True
    if units <= 160:
        return 1, False
    return (units + 152) // 153, False


def ucs2_segments(text: str) -> int:
    units = len(text.encode("utf-16-be")) // 2
    return 1 if units <= 70 else (units + 66) // 67


def fmt_money(value: float) -> str:
    return f"{value:.4f}"


class State:
    def __init__(self, username: str, api_key: str, callback_url: str | None):
        self.username = username
        self.api_key = api_key
        self.callback_url = callback_url
        self.lock = threading.RLock()
        self.release = threading.Event()   # set to release hung requests
        self.shutdown = threading.Event()
        self.reset()

    def reset(self):
        with self.lock:
            self.release.set()
            self.release = threading.Event()
            self.config = copy.deepcopy(DEFAULT_CONFIG)
            self.rng = random.Random()
            self.requests: list[dict] = []
            self.messages: list[dict] = []
            self.dlrs: list[dict] = []
            self.counts = {"requests": 0, "api_requests": 0, "control_requests": 0,
                           "connections_refused": 0, "hung": 0, "hangups": 0, "by_status": {},
                           "recipients": 0, "accepted": 0, "rejected": 0}
            self.recipient_seq = 0
            self.by_message_id: dict[str, dict] = {}

    def merge_config(self, update: dict):
        with self.lock:
            for key, value in update.items():
                if key not in DEFAULT_CONFIG:
                    raise KeyError(key)
                if key == "dlr" and isinstance(value, dict):
                    for dk in value:
                        if dk not in DEFAULT_CONFIG["dlr"]:
                            raise KeyError(f"dlr.{dk}")
                    self.config["dlr"].update(value)
                else:
                    self.config[key] = value
            if "seed" in update:
                self.rng = random.Random(update["seed"])
            if update.get("hang") is False:
                self.release.set()
                self.release = threading.Event()


STATE: State  # set in main()


def network_code_for(number: str, configured: str | None) -> str:
    if configured:
        return configured
    for prefix, code in NETWORK_CODES:
        if number.startswith(prefix):
            return code
    return "99999"


def post_dlr(report: dict, url: str, cfg: dict) -> dict:
    """POSTs one delivery report (form-encoded, like the real API) and returns the attempt log."""
    body = urllib.parse.urlencode(report).encode()
    entry = {"url": url, "fields": report, "attempts": [], "ok": False}
    for attempt in range(max(1, int(cfg.get("attempts", 1)))):
        if attempt:
            time.sleep(cfg.get("retry_delay_ms", 200) / 1000)
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=cfg.get("timeout_s", 5)) as resp:
                entry["attempts"].append({"status": resp.status, "time": time.time()})
                if 200 <= resp.status < 300:
                    entry["ok"] = True
                    break
        except urllib.error.HTTPError as e:
            entry["attempts"].append({"status": e.code, "time": time.time()})
        except Exception as e:  # connection refused, timeout, ...
            entry["attempts"].append({"error": repr(e), "time": time.time()})
    return entry


def schedule_dlrs(msgs: list[dict]):
    with STATE.lock:
        cfg = copy.deepcopy(STATE.config["dlr"])
    if not cfg["enabled"]:
        return
    url = cfg["callback_url"] or STATE.callback_url
    if not url:
        return

    def run():
        time.sleep(cfg["delay_ms"] / 1000)
        for m in msgs:
            rule = cfg["per_number"].get(m["number"], {})
            statuses = rule.get("statuses") or cfg["statuses"]
            for status in statuses:
                if STATE.shutdown.is_set():
                    return
                report = {
                    "id": m["messageId"],
                    "status": status,
                    "phoneNumber": m["number"],
                    "networkCode": network_code_for(m["number"], rule.get("networkCode",
                                                                          cfg["network_code"])),
                    "retryCount": str(rule.get("retryCount", cfg["retry_count"])),
                }
                if status in ("Failed", "Rejected", "Expired", "AbsentSubscriber"):
                    report["failureReason"] = rule.get("failureReason", cfg["failure_reason"])
                entry = post_dlr(report, url, cfg)
                with STATE.lock:
                    STATE.dlrs.append(entry)

    threading.Thread(target=run, daemon=True).start()


def build_xml(message: str, recipients: list[dict]) -> str:
    parts = ["<AfricasTalkingResponse><SMSMessageData>",
             f"<Message>{xml_escape(message)}</Message><Recipients>"]
    for r in recipients:
        parts.append("<Recipient>" + "".join(
            f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in r.items()) + "</Recipient>")
    parts.append("</Recipients></SMSMessageData></AfricasTalkingResponse>")
    return "".join(parts)


NUMBER_RE = re.compile(r"^\+?[0-9]{7,15}$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAfricasTalking/1.0"
    is_control_port = False

    def log_message(self, fmt, *args):  # quiet; the request log is in /_control/requests
        pass

    # -- plumbing ----------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes | str, ctype: str = "text/plain; charset=utf-8"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with STATE.lock:
            key = str(status)
            STATE.counts["by_status"][key] = STATE.counts["by_status"].get(key, 0) + 1

    def _json(self, status: int, obj):
        self._send(status, json.dumps(obj), "application/json")

    def _abort(self):
        """Close the connection without an HTTP answer (the client sees EOF or a reset)."""
        self._aborted = True
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def setup(self):
        super().setup()
        self._aborted = False
        if not self.is_control_port:
            with STATE.lock:
                down = STATE.config["down"]
                if down:
                    STATE.counts["connections_refused"] += 1
            if down:
                self._abort()

    def handle(self):
        if not self._aborted:
            super().handle()

    # -- dispatch ----------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str):
        path = urllib.parse.urlsplit(self.path).path
        body = self._read_body()
        with STATE.lock:
            STATE.counts["requests"] += 1
        if path.startswith("/_control/"):
            with STATE.lock:
                STATE.counts["control_requests"] += 1
            return self._control(method, path, body)
        if self.is_control_port:
            return self._send(404, "not found")
        with STATE.lock:
            down = STATE.config["down"]
            if down:
                STATE.counts["connections_refused"] += 1
        if down:  # a keep-alive connection opened before "down" is dropped too
            return self._abort()
        with STATE.lock:
            STATE.counts["api_requests"] += 1
        if path.rstrip("/") == "/version1/messaging":
            if method != "POST":
                return self._send(405, "Method not allowed")
            return self._messaging(body)
        return self._send(404, "Not found")

    # -- the API -----------------------------------------------------------------------------
    def _fault(self) -> bool:
        """Applies whole-request faults. Returns True when the request was handled by one."""
        with STATE.lock:
            cfg = STATE.config
            delay = cfg["delay_ms"]
            hangup, hang = cfg["hangup"], cfg["hang"]
            release = STATE.release
            burst_status = None
            if cfg["burst"] and cfg["burst"].get("count", 0) > 0:
                cfg["burst"]["count"] -= 1
                burst_status = int(cfg["burst"].get("status", 500))
            elif cfg["error_rate"] and STATE.rng.random() < float(cfg["error_rate"]):
                burst_status = int(cfg["error_status"])
        if delay:
            if release.wait(delay / 1000) or STATE.shutdown.is_set():
                pass
        if hangup:
            with STATE.lock:
                STATE.counts["hangups"] += 1
            self._abort()
            return True
        if hang:
            with STATE.lock:
                STATE.counts["hung"] += 1
            while not release.wait(0.2):
                if STATE.shutdown.is_set():
                    break
            self._abort()
            return True
        if burst_status is not None:
            text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                    504: "Gateway Timeout"}.get(burst_status, "Error")
            self._send(burst_status, text)
            return True
        return False

    def _messaging(self, body: bytes):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                raw = json.loads(body or b"{}")
                fields = {k: (",".join(v) if isinstance(v, list) else str(v)) for k, v in raw.items()}
            except ValueError:
                fields = {}
        else:
            fields = {k: v[-1] for k, v in urllib.parse.parse_qs(
                body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        headers = {k: v for k, v in self.headers.items()}
        record = {"time": time.time(), "path": self.path, "content_type": ctype, "fields": fields,
                  "headers": headers}
        with STATE.lock:
            STATE.requests.append(record)
            force_401 = STATE.config["force_401"]

        if self._fault():
            record["response"] = {"status": "fault"}
            return

        api_key = self.headers.get("apiKey") or self.headers.get("apikey")
        if force_401 or api_key != STATE.api_key or fields.get("username") != STATE.username:
            record["response"] = {"status": 401}
            return self._send(401, AUTH_FAILED_BODY)
        missing = [f for f in ("username", "to", "message") if not fields.get(f, "").strip()]
        if missing:
            record["response"] = {"status": 400}
            return self._send(400, f"Request is missing required form field '{missing[0]}'")

        numbers = [n.strip() for n in fields["to"].split(",") if n.strip()]
        text = fields["message"]
        segments, _unicode = gsm7_segments(text)
        recipients, accepted = [], []
        now = time.time()
        with STATE.lock:
            cfg = STATE.config
            unit = float(cfg["unit_cost"])
            total = 0.0
            for number in numbers:
                STATE.recipient_seq += 1
                STATE.counts["recipients"] += 1
                code = cfg["default_status_code"]
                if not NUMBER_RE.match(number):
                    code = 403
                nth = cfg["fail_every_nth"]
                if nth and int(nth.get("n", 0)) > 0 and STATE.recipient_seq % int(nth["n"]) == 0:
                    code = int(nth.get("status_code", 500))
                if number in cfg["recipient_status"]:
                    code = int(cfg["recipient_status"][number])
                status = STATUS_NAMES.get(code, "InternalServerError")
                if code in ACCEPTED_CODES:
                    cost = unit * segments
                    total += cost
                    mid = f"ATXid_{uuid.uuid4().hex}"
                    rec = {"statusCode": code, "number": number, "status": status,
                           "cost": f"{cfg['currency']} {fmt_money(cost)}", "messageId": mid}
                    msg = {"number": number, "message": text, "from": fields.get("from"),
                           "messageId": mid, "statusCode": code, "status": status,
                           "segments": segments, "cost": rec["cost"], "time": now,
                           "enqueue": fields.get("enqueue"), "request_index": len(STATE.requests) - 1}
                    STATE.messages.append(msg)
                    STATE.by_message_id[mid] = msg
                    accepted.append(msg)
                    STATE.counts["accepted"] += 1
                else:
                    rec = {"statusCode": code, "number": number, "status": status, "cost": "0",
                           "messageId": "None"}
                    STATE.counts["rejected"] += 1
                recipients.append(rec)
            currency = cfg["currency"]
        total_text = f"{currency} {fmt_money(total)}" if accepted else "0"
        message = f"Sent to {len(accepted)}/{len(numbers)} Total Cost: {total_text}"
        record["response"] = {"status": 201, "recipients": recipients}
        if "json" in (self.headers.get("Accept") or "").lower():
            self._json(201, {"SMSMessageData": {"Message": message, "Recipients": recipients}})
        else:
            self._send(201, build_xml(message, recipients), "application/xml")
        if accepted:
            schedule_dlrs(accepted)

    # -- control -----------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: bytes):
        name = path[len("/_control/"):].strip("/")
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return self._json(400, {"error": "body is not JSON"})
        if name == "health":
            return self._json(200, {"ok": True})
        if name == "reset" and method == "POST":
            STATE.reset()
            return self._json(200, {"ok": True})
        if name == "config":
            if method == "POST":
                try:
                    STATE.merge_config(payload)
                except KeyError as e:
                    return self._json(400, {"error": f"unknown config key {e}"})
            with STATE.lock:
                snapshot = copy.deepcopy(STATE.config)
            return self._json(200, snapshot)
        if name == "stats":
            with STATE.lock:
                per: dict[tuple[str, str], int] = {}
                for m in STATE.messages:
                    per[(m["number"], m["message"])] = per.get((m["number"], m["message"]), 0) + 1
                out = copy.deepcopy(STATE.counts)
                out["messages"] = len(STATE.messages)
                out["message_counts"] = [{"number": k[0], "message": k[1], "count": v}
                                         for k, v in per.items()]
                out["duplicates"] = [x for x in out["message_counts"] if x["count"] > 1]
                out["dlrs_sent"] = len(STATE.dlrs)
                out["dlrs_failed"] = sum(1 for d in STATE.dlrs if not d["ok"])
            return self._json(200, out)
        if name == "messages":
            with STATE.lock:
                snapshot = copy.deepcopy(STATE.messages)
            return self._json(200, snapshot)
        if name == "requests":
            with STATE.lock:
                snapshot = copy.deepcopy(STATE.requests)
            return self._json(200, snapshot)
        if name == "dlrs":
            with STATE.lock:
                snapshot = copy.deepcopy(STATE.dlrs)
            return self._json(200, snapshot)
        if name == "dlr" and method == "POST":
            return self._manual_dlr(payload)
        return self._json(404, {"error": f"unknown control endpoint {name}"})

    def _manual_dlr(self, p: dict):
        with STATE.lock:
            cfg = copy.deepcopy(STATE.config["dlr"])
            msg = STATE.by_message_id.get(p.get("messageId", ""))
        status = p.get("status", "Success")
        if status not in DLR_STATUSES:
            return self._json(400, {"error": f"status must be one of {sorted(DLR_STATUSES)}"})
        number = p.get("phoneNumber") or (msg["number"] if msg else None)
        if not p.get("messageId") or not number:
            return self._json(400, {"error": "messageId (of a sent message) or phoneNumber needed"})
        url = p.get("callback_url") or cfg["callback_url"] or STATE.callback_url
        if not url:
            return self._json(400, {"error": "no callback URL configured"})
        report = {"id": p["messageId"], "status": status, "phoneNumber": number,
                  "networkCode": p.get("networkCode") or network_code_for(number, cfg["network_code"]),
                  "retryCount": str(p.get("retryCount", cfg["retry_count"]))}
        if "failureReason" in p:
            report["failureReason"] = p["failureReason"]
        elif status in ("Failed", "Rejected", "Expired", "AbsentSubscriber"):
            report["failureReason"] = cfg["failure_reason"]
        entry = post_dlr(report, url, cfg)
        with STATE.lock:
            STATE.dlrs.append(entry)
        return self._json(200, entry)


    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


class ControlHandler(Handler):
    is_control_port = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--username", default="sandbox")
    ap.add_argument("--api-key", default="test-api-key")
    ap.add_argument("--callback-url", default=None)
    ap.add_argument("--ready-file", default=None)
    args = ap.parse_args(argv)

    global STATE
    STATE = State(args.username, args.api_key, args.callback_url)
    api = Server((args.host, args.port), Handler)
    ctl = Server((args.host, args.control_port), ControlHandler)
    info = {"port": api.server_address[1], "control_port": ctl.server_address[1], "pid": os.getpid()}
    for srv in (api, ctl):
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    line = json.dumps(info)
    print(line, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.ready_file)

    import signal
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    STATE.shutdown.set()
    STATE.release.set()
    api.shutdown()
    ctl.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
