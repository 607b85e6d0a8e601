"""`pglab lab --no-browser` serves JupyterLab over HTTP, with a working DATABASE_URL for kernels."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import psycopg2
import pytest

from tests.conftest import clean_environ


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_lab_answers_http_and_kernels_get_database_url(course_url: str, pglab_home: Path,
                                                      tmp_path: Path) -> None:
    port, token = _free_port(), secrets.token_hex(8)
    env = clean_environ(PGLAB_HOME=str(pglab_home), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    lab = subprocess.Popen(
        [sys.executable, "-m", "pglab.cli", "lab", "--no-browser", "--port", str(port), "--",
         f"--IdentityProvider.token={token}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                if lab.poll() is not None:
                    pytest.fail(f"pglab lab exited: {lab.stdout.read() if lab.stdout else ''}")
                time.sleep(0.5)
        assert "JupyterLab" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}") as r:
            listing = json.loads(r.read())
        assert listing["type"] == "directory"
        served = {item["name"] for item in listing["content"]}
        on_disk = {p.name for p in (Path(__file__).resolve().parent.parent / "notebooks").iterdir()
                   if not p.name.startswith(".")}
        assert served == on_disk
        servers = [p for p in psutil.Process(lab.pid).children(recursive=True)
                   if "jupyter" in " ".join(p.cmdline())]
        assert servers, "no jupyter server process under pglab lab"
        kernel_env = servers[0].environ()  # kernels inherit the server's environment
        url = kernel_env["DATABASE_URL"]
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            assert cur.fetchone()[0] > 5000
        notebook_dir = " ".join(servers[0].cmdline())
        assert f"--notebook-dir={Path(__file__).resolve().parent.parent / 'notebooks'}" in notebook_dir
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
