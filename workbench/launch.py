"""Start the app as a process of its own (`streamlit run app.py` on 127.0.0.1), for the browser tests, the
screenshots and the load benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_app(home: Path, port: int, env: dict[str, str] | None = None, log: Path | None = None,
              wait_s: float = 120.0, args: list[str] | None = None) -> subprocess.Popen:
    """The app on 127.0.0.1:`port` with the workspace `home` (and `env` and streamlit's `args` added), its
    output appended to `log`; returns once it answers its health check, or raises RuntimeError with the log's
    text."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *(args or [])],
        cwd=ROOT, env={**os.environ, "WORKBENCH_HOME": str(home), **(env or {})}, stdout=out,
        stderr=subprocess.STDOUT)
    if log:
        out.close()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    server.wait(10)
    raise RuntimeError(log.read_text(errors="replace") if log else "the app did not start")
