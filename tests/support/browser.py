"""Driving JupyterLab in Debian's headless Chromium with Playwright: the browser, and the few moves
the browser tests make (open a notebook, use a menu, run a cell, read what it shows).

Playwright's own browser downloads are not used: on a fresh (root) machine such as CI,
:func:`install_chromium` installs Debian's ``chromium`` with apt-get, and skips, saying why, elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'


def install_chromium() -> Path:
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


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                          .some(e => /ipykernel\\) \\| Idle/.test(e.textContent))"""


def cells(page):  # type: ignore[no-untyped-def]
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell")


def open_notebook(page, base: str, token: str, workspace: str, notebook: str) -> None:  # type: ignore[no-untyped-def]
    """Open ``notebook`` in a workspace of its own and wait until its kernel is idle."""
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{notebook}?token={token}")
    cells(page).first.wait_for(timeout=30_000)
    deadline = time.monotonic() + 45
    while not page.evaluate(KERNEL_IDLE):
        # A busy machine can make JupyterLab ask which kernel to start: take the preferred one.
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count() and dialog.first.is_visible():
            dialog.first.click()
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {notebook} did not become idle")
        page.wait_for_timeout(250)


def run_all(page, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    """Run ▸ Run All Cells; wait until every code cell has run, or one failed and the kernel is idle."""
    menu(page, "Run", "Run All Cells")
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


def menu(page, menu: str, item: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_cell(page, index: int) -> str:  # type: ignore[no-untyped-def]
    """Select cell ``index`` by its prompt, run it from the menu, wait for it; return its output."""
    cell = cells(page).nth(index)
    before = cell.locator(".jp-InputPrompt").inner_text()
    cell.locator(".jp-InputPrompt").click()
    menu(page, "Run", "Run Selected Cell and Do not Advance")
    page.wait_for_function(
        f"""([index, before]) => {{
            const cell = document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell')[index];
            const prompt = cell.querySelector('.jp-InputPrompt').textContent;
            return /\\[\\d+\\]/.test(prompt) && prompt !== before && ({KERNEL_IDLE})();
        }}""",
        arg=[index, before], timeout=30_000, polling=200)
    return str(cell.locator(".jp-OutputArea").inner_text())


def errors_shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    texts = cells(page).locator(f".jp-OutputArea-output{STDERR}, .jp-OutputArea-output {STDERR}").all_inner_texts()
    return [t for t in texts if "Traceback" in t or "Error" in t]
