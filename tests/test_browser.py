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
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import clean_environ
from tests.corpus.cases_core import SEED_BEGINNER
from tests.lab_process import Lab, free_port, headless_args, new_token, running_lab

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get on a fresh (root) machine such as CI."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs apt-get and root): "
                    "install Debian's `chromium` package to run the browser test")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed, so the browser test cannot run:\n"
                        f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


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


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                          .some(e => /ipykernel\\) \\| Idle/.test(e.textContent))"""


def _cells(page):  # type: ignore[no-untyped-def]
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell")


def _open(page, base: str, token: str, workspace: str, notebook: str) -> None:  # type: ignore[no-untyped-def]
    """Open ``notebook`` in a workspace of its own and wait until its kernel is idle."""
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{notebook}?token={token}")
    _cells(page).first.wait_for(timeout=30_000)
    deadline = time.monotonic() + 45
    while not page.evaluate(KERNEL_IDLE):
        # A busy machine can make JupyterLab ask which kernel to start: take the preferred one.
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count() and dialog.first.is_visible():
            dialog.first.click()
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {notebook} did not become idle")
        page.wait_for_timeout(250)


def _run_all(page, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    """Run ▸ Run All Cells; wait until every code cell has run, or one failed and the kernel is idle."""
    _menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        f"""() => {{
            const prompts = [...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt')]
                .map(p => p.textContent);
            const idle = ({KERNEL_IDLE})();
            const failed = document.querySelector('{PANEL} {STDERR}') !== null;
            return idle && prompts.length > 0 && !prompts.some(p => p.includes('*'))
                && (failed || prompts.every(p => /\\[\\d+\\]/.test(p)));
        }}""",
        timeout=timeout_ms, polling=250)


def _menu(page, menu: str, item: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(item)}$")).click()


def _run_cell(page, index: int) -> str:  # type: ignore[no-untyped-def]
    """Select cell ``index`` by its prompt, run it from the menu, wait for it; return its output."""
    cell = _cells(page).nth(index)
    before = cell.locator(".jp-InputPrompt").inner_text()
    cell.locator(".jp-InputPrompt").click()
    _menu(page, "Run", "Run Selected Cell and Do not Advance")
    page.wait_for_function(
        f"""([index, before]) => {{
            const cell = document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell')[index];
            const prompt = cell.querySelector('.jp-InputPrompt').textContent;
            return /\\[\\d+\\]/.test(prompt) && prompt !== before && ({KERNEL_IDLE})();
        }}""",
        arg=[index, before], timeout=30_000, polling=200)
    return str(cell.locator(".jp-OutputArea").inner_text())


def _errors_shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    texts = _cells(page).locator(f".jp-OutputArea-output{STDERR}, .jp-OutputArea-output {STDERR}").all_inner_texts()
    return [t for t in texts if "Traceback" in t or "Error" in t]


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
                _open(page, base, token, "lesson", LESSON)
                _run_all(page, 60_000)
                lesson_s = time.monotonic() - started
                cells = _cells(page)
                errors = _errors_shown(page)
                assert errors == [], f"a lesson cell shows an error:\n{errors[0][-1500:]}\n" + "\n".join(
                    t for t in cells.locator(".jp-OutputArea-output").all_inner_texts()
                    if "one after another" in t or "checks passed" in t)
                prompts = cells.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
                assert all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts), prompts
                table = cells.nth(SQL_CELL).locator(".jp-OutputArea-output table")
                headers = [h.strip() for h in table.locator("th").all_inner_texts()]
                assert headers == ["id", "name", "price", "tags", "metadata"], headers
                assert table.locator("tbody tr").count() == 3
                cells.nth(SQL_CELL).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "lab-lesson-sql-table.png"))
                last = cells.nth(cells.count() - 1)
                last.scroll_into_view_if_needed()
                verdict = re.search(r"Part 1 self-check: (\d+)/(\d+) checks passed", last.inner_text())
                assert verdict and verdict[1] == verdict[2], last.inner_text()
                page.screenshot(path=str(ARTIFACTS / "lab-lesson-self-check.png"))

                # The beginner challenge, in a second tab: set-up, the released stub, self-check ...
                page = browser.new_page(viewport={"width": 1280, "height": 1200})
                page.set_default_timeout(30_000)
                _open(page, base, token, "challenge", CHALLENGE)
                _run_cell(page, 2)
                _run_cell(page, 4)
                stub_check = _run_cell(page, 8)
                assert "0 of 1 visible checks pass" in stub_check, stub_check
                assert "what to fix" in stub_check and "NotImplementedError" in stub_check, stub_check
                _cells(page).nth(8).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "lab-challenge-what-to-fix.png"))

                # ... then the learner types an answer and checks again
                _cells(page).nth(4).locator(".cm-content").click()
                page.keyboard.press("Control+a")
                page.keyboard.press("Delete")
                page.keyboard.insert_text(SEED_BEGINNER.split("\n\n# Usage")[0].rstrip())
                _run_cell(page, 4)
                done_check = _run_cell(page, 8)
                assert "1 of 1 visible checks pass" in done_check, done_check
                assert "All visible checks pass" in done_check, done_check
                assert _errors_shown(page) == []
                _cells(page).nth(4).evaluate("cell => cell.scrollIntoView({block: 'start'})")
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
