"""Waiting for a server started in a subprocess to answer over HTTP."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_for_http(url: str, proc: subprocess.Popen, timeout_s: float) -> bool:
    """Poll ``url`` until it answers 200; False when the process exits or time runs out."""
    deadline = time.time() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            return False
        time.sleep(0.5)
