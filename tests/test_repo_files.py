"""Files other people run: committed notebooks, docker compose, the conda environment."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg2
import yaml

from pglab.db.server import EmbeddedServer, _binaries


def test_committed_notebooks_have_cleared_outputs(project_root: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=project_root,
                             capture_output=True, text=True, check=True).stdout.split()
    untracked = [str(p.relative_to(project_root)) for p in project_root.glob("notebooks/**/*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts]
    dirty = []
    for name in sorted(set(tracked) | set(untracked)):
        cells = json.loads((project_root / name).read_text(encoding="utf-8"))["cells"]
        if any(c.get("outputs") or c.get("execution_count") for c in cells):
            dirty.append(name)
    assert not dirty, f"clear outputs before committing (jupyter nbconvert --clear-output): {dirty}"


def _compose(project_root: Path) -> dict:
    return yaml.safe_load((project_root / "docker-compose.yml").read_text())


def test_compose_parses_and_every_path_exists(project_root: Path) -> None:
    compose = _compose(project_root)
    services = compose["services"]
    assert set(services) == {"db", "jupyter"}
    for name, service in services.items():
        build = service["build"]
        context = project_root / (build if isinstance(build, str) else build["context"])
        dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict)
                                else "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                assert (project_root / host).exists(), f"{name}: volume source {host} is missing"
    for copied in ("start-with-tls.sh",):
        assert (project_root / "docker" / "postgres" / copied).is_file()


def test_compose_database_has_tls_a_healthcheck_and_jupyter_waits_for_it(project_root: Path) -> None:
    compose = _compose(project_root)
    db, jupyter = compose["services"]["db"], compose["services"]["jupyter"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    start = (project_root / "docker" / "postgres" / "start-with-tls.sh").read_text()
    assert "ssl=on" in start and "openssl req" in start
    assert jupyter["depends_on"]["db"]["condition"] == "service_healthy"
    assert "sslmode=require" in jupyter["environment"]["DATABASE_URL"]
    assert "@db:5432/catalogue" in jupyter["environment"]["DATABASE_URL"]


def test_compose_initialises_from_the_same_files_as_the_embedded_path(
    project_root: Path, tmp_path: Path, conn
) -> None:
    """Run docker/initdb's script for real, with the wheel's psql, against a fresh server."""
    compose = _compose(project_root)
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["db"]["volumes"]
              if v.startswith(".")}
    assert mounts["/course-data"] == "./data"
    init_dir = project_root / mounts["/docker-entrypoint-initdb.d"]
    scripts = sorted(init_dir.glob("*.sh"))
    assert scripts, "no init scripts"
    server = EmbeddedServer(tmp_path / "compose-like", preferred_port=0)
    info = server.start()
    try:
        env = dict(
            os.environ,
            PATH=f"{_binaries()}{os.pathsep}{os.environ['PATH']}",
            PGHOST="127.0.0.1", PGPORT=str(info.port), PGPASSWORD=info.admin_password,
            POSTGRES_USER="postgres", PGLAB_DB_PASSWORD="learner-pw",
            COURSE_DATA=str(project_root / "data"),
        )
        env.pop("DATABASE_URL", None)
        for script in scripts:
            done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stderr
        url = f"postgresql://learner:learner-pw@localhost:{info.port}/catalogue"
        query = ("SELECT count(*), sum(stock), sum(price), "
                 "md5(string_agg(id::text || tags::text || metadata::text, ',' ORDER BY id)) FROM products")
        with psycopg2.connect(url) as compose_conn, compose_conn.cursor() as cur:
            cur.execute(query)
            from_compose = cur.fetchone()
        with conn.cursor() as cur:
            cur.execute(query)
            from_embedded = cur.fetchone()
        assert from_compose == from_embedded
    finally:
        server.stop()


def test_conda_environment_installs_the_project(project_root: Path) -> None:
    env = yaml.safe_load((project_root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.startswith("-e .") for line in pip_section)
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.split("=")[1] >= "3.10"


def test_docker_database_is_postgresql_18_like_the_course(project_root: Path) -> None:
    from pglab.learner.lesson_setup import REQUIRED_MAJOR, older_server_note

    dockerfile = (project_root / "docker" / "postgres" / "Dockerfile").read_text()
    assert f"FROM postgres:{REQUIRED_MAJOR}-" in dockerfile
    volumes = _compose(project_root)["services"]["db"]["volumes"]
    assert any(v.endswith(":/var/lib/postgresql") for v in volumes), "18's images keep data under a versioned folder"
    note = older_server_note(16)
    assert "\n" not in note and "PostgreSQL 16" in note and "Part 7" in note and "Part 8" in note
    assert "Part 8" not in older_server_note(17)
