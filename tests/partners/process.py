"""Starting a test protocol partner (an identity provider) in a process of its own."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_partner(module: str, *args: str, env: dict, ready_url: str) -> subprocess.Popen:
    """python -m `module` *args, from the repository's root, once `ready_url` answers 200
    (within a minute; its error output if it stops first)."""
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} stopped: {process.stderr.read().decode()}")
        try:
            if requests.get(ready_url, timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{module} did not start within a minute.")
