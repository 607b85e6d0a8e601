"""JupyterLab in a real browser: a lesson runs top to bottom, a challenge's self-check answers.

``pglab lab --no-browser`` is started as a learner would start it (on the test's embedded server)
and driven in headless Chromium with Playwright: Part 1 is run with *Run ▸ Run All Cells*, its
``%%sql`` result must be an HTML table and no cell may show an error; then the beginner challenge's
set-up, answer and self-check cells are run, first with the released stub (the self-check says what
to fix), then with an answer typed into the answer cell (all visible checks pass).

Nothing is saved: JupyterLab gets a private settings folder with autosave off, and the notebooks
are compared byte for byte before and after. Screenshots go to ``test-artifacts/`` (git-ignored).

The browser is Debian's ``chromium`` (Playwright's own browser downloads are not used). On a fresh
machine the fixture installs it with apt-get when it runs as root, and skips, saying why, otherwise.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus.cases_core import SEED_BEGINNER
from tests.support.browser import (
    CHROMIUM_ARGS,
    cells,
    errors_shown,
    install_chromium,
    open_notebook,
    run_all,
    run_cell,
)
from tests.support.environment import clean_environ
from tests.support.lab_process import Lab, free_port, headless_args, new_token, running_lab

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
LESSON = "01_psycopg2_vs_psycopg3.ipynb"
CHALLENGE = "challenges/core/beginner.ipynb"
SQL_CELL = 4  # Part 1's first %%sql cell: three software products

# JupyterLab user settings for the test's lab only (JUPYTERLAB_SETTINGS_DIR): never autosave, keep
# every cell in the DOM so outputs can be inspected, no news or update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def chromium() -> Path:
    return install_chromium()


@pytest.fixture()
def lab(course_url: str, pglab_home: Path, tmp_path: Path) -> Iterator[Lab]:
    """`pglab lab --no-browser` on a free port, with the test's private JupyterLab settings."""
    port, token = free_port(), new_token()
    settings = tmp_path / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = clean_environ(PGLAB_HOME=str(pglab_home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                        JUPYTERLAB_SETTINGS_DIR=str(settings),
                        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    env.pop("MPLBACKEND", None)  # plots inline, as a learner sees them
    command = [sys.executable, "-m", "pglab.cli", "lab", *headless_args(port, token)]
    with running_lab(command, env, tmp_path / "lab.log", port, token, startup_s=60) as running:
        yield running


def _snapshot(paths: list[Path]) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


@pytest.mark.slow
def test_lesson_and_challenge_in_headless_chromium(chromium: Path, lab: Lab, course_url: str) -> None:
    from playwright.sync_api import sync_playwright

    from pglab.db import course_data
    from pglab.settings import load_settings

    course_data.reset_course_database(course_url, load_settings().data_dir)
    base, token = lab.base, lab.token
    notebooks = ROOT / "notebooks"
    watched = [notebooks / LESSON, notebooks / CHALLENGE]
    before = _snapshot(watched)
    checkpoints_existed = (notebooks / ".ipynb_checkpoints").exists(), \
        (notebooks / "challenges" / "core" / ".ipynb_checkpoints").exists()
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(30_000)
            try:

                # Part 1, Run ▸ Run All Cells
                open_notebook(page, base, token, "lesson", LESSON)
                run_all(page, 60_000)
                lesson_s = time.monotonic() - started
                lesson = cells(page)
                errors = errors_shown(page)
                assert errors == [], f"a lesson cell shows an error:\n{errors[0][-1500:]}\n" + "\n".join(
                    t for t in lesson.locator(".jp-OutputArea-output").all_inner_texts()
                    if "one after another" in t or "checks passed" in t)
                prompts = lesson.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
                assert all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts), prompts
                table = lesson.nth(SQL_CELL).locator(".jp-OutputArea-output table")
                headers = [h.strip() for h in table.locator("th").all_inner_texts()]
                assert headers == ["id", "name", "price", "tags", "metadata"], headers
                assert table.locator("tbody tr").count() == 3
                lesson.nth(SQL_CELL).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "lab-lesson-sql-table.png"))
                last = lesson.nth(lesson.count() - 1)
                last.scroll_into_view_if_needed()
                verdict = re.search(r"Part 1 self-check: (\d+)/(\d+) checks passed", last.inner_text())
                assert verdict and verdict[1] == verdict[2], last.inner_text()
                page.screenshot(path=str(ARTIFACTS / "lab-lesson-self-check.png"))

                # The beginner challenge, in a second tab: set-up, the released stub, self-check ...
                page = browser.new_page(viewport={"width": 1280, "height": 1200})
                page.set_default_timeout(30_000)
                open_notebook(page, base, token, "challenge", CHALLENGE)
                run_cell(page, 2)
                run_cell(page, 4)
                stub_check = run_cell(page, 8)
                assert "0 of 1 visible checks pass" in stub_check, stub_check
                assert "what to fix" in stub_check and "NotImplementedError" in stub_check, stub_check
                cells(page).nth(8).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "lab-challenge-what-to-fix.png"))

                # ... then the learner types an answer and checks again
                cells(page).nth(4).locator(".cm-content").click()
                page.keyboard.press("Control+a")
                page.keyboard.press("Delete")
                page.keyboard.insert_text(SEED_BEGINNER.split("\n\n# Usage")[0].rstrip())
                run_cell(page, 4)
                done_check = run_cell(page, 8)
                assert "1 of 1 visible checks pass" in done_check, done_check
                assert "All visible checks pass" in done_check, done_check
                assert errors_shown(page) == []
                cells(page).nth(4).evaluate("cell => cell.scrollIntoView({block: 'start'})")
                page.screenshot(path=str(ARTIFACTS / "lab-challenge-all-pass.png"))
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "lab-failure.png"))
                raise
            finally:
                browser.close()
    finally:
        after = _snapshot(watched)
        for existed, folder in zip(checkpoints_existed, (notebooks, notebooks / "challenges" / "core"), strict=True):
            if not existed:
                shutil.rmtree(folder / ".ipynb_checkpoints", ignore_errors=True)
    assert after == before, "the browser session changed a committed notebook"
    print(f"lesson run in the browser: {lesson_s:.1f} s; whole browser session {time.monotonic() - started:.1f} s")
