"""The test server that Chromium and curl talk to (`live_server`) survives a client that hangs
up mid-response without leaving the response's file open."""

from __future__ import annotations

import gc
import socket
import struct
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def test_a_connection_reset_mid_response_leaves_no_file_open(live_server: str):
    # Werkzeug's server skips the response's close() when reading the rest of a reset
    # connection raises (serving.py, run_wsgi's `finally`): a static file stayed open, and its
    # ResourceWarning, raised when collected, failed whichever browser test ran at that moment.
    address = urlsplit(live_server)
    unraisable: list[Any] = []
    previous, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        for _ in range(20):
            with socket.create_connection((address.hostname, address.port)) as client:
                client.sendall(b"GET /static/css/public.css HTTP/1.1\r\nHost: t\r\n\r\n")
                client.recv(1)  # the response has begun
                # Hang up with a reset (linger 0), as a browser that navigates away can.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.5)
        gc.collect()
    finally:
        sys.unraisablehook = previous
    leaks = [str(hook.exc_value) for hook in unraisable if hook.exc_type is ResourceWarning]
    assert leaks == []
