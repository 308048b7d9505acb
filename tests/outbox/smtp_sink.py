"""A real SMTP server for the tests (aiosmtpd on loopback): what a mail server receives,
message by message, with the Message-ID and text of each. It can be stopped and started
again on the same port (a mail outage), refuse a recipient for good (550), or hold a
message before accepting it (to kill a worker mid-send)."""

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self):
        self.port = free_port()
        self.received: list[dict] = []
        self.refuse: set[str] = set()  # recipients answered 550
        self.delay = 0.0  # seconds before accepting each message
        self.hold_at: int | None = None  # the nth recipient (1-based) waits at RCPT
        self.held = threading.Event()  # set once a recipient is waiting there
        self.release = threading.Event()
        self._recipients_seen = 0
        self._lock = threading.Lock()
        self._controller = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        with self._lock:
            self._recipients_seen += 1
            hold = self._recipients_seen == self.hold_at
        if hold:
            self.held.set()
            while not self.release.is_set():  # the worker is killed meanwhile
                await asyncio.sleep(0.02)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        body = parsed.get_body(("plain",))
        with self._lock:
            self.received.append(
                {
                    "to": list(envelope.rcpt_tos),
                    "message_id": parsed["Message-ID"],
                    "subject": str(parsed["Subject"]),
                    "body": body.get_content() if body is not None else "",
                    "raw": envelope.content.decode(errors="replace"),
                }
            )
        return "250 2.0.0 Accepted"

    # control
    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return self.received
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} of {count} emails arrived in {timeout}s")

    def message_ids(self) -> list[str]:
        return [message["message_id"] for message in self.received]
