"""`pglab lab --no-browser` serves JupyterLab over HTTP, with a working DATABASE_URL for kernels."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.support.environment import clean_environ
from tests.support.lab_process import free_port, headless_args, new_token, running_lab


@pytest.mark.slow
def test_lab_answers_http_and_kernels_get_database_url(course_url: str, pglab_home: Path, project_root: Path,
                                                      tmp_path: Path) -> None:
    port, token = free_port(), new_token()
    env = clean_environ(PGLAB_HOME=str(pglab_home), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    command = [sys.executable, "-m", "pglab.cli", "lab", *headless_args(port, token)]
    with running_lab(command, env, tmp_path / "lab.log", port, token) as lab:
        assert "JupyterLab" in lab.get("/lab")
        listing = json.loads(lab.get("/api/contents"))
        assert listing["type"] == "directory"
        served = {item["name"] for item in listing["content"]}
        on_disk = {p.name for p in (project_root / "notebooks").iterdir() if not p.name.startswith(".")}
        assert served == on_disk
        server = lab.jupyter_server()
        with psycopg2.connect(server.environ()["DATABASE_URL"]) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            assert cur.fetchone()[0] > 5000
        assert f"--notebook-dir={project_root / 'notebooks'}" in " ".join(server.cmdline())
