"""Run a documentation page's shell commands the way a reader would, one after the other.

A page's commands are the lines of its fenced ``bash`` blocks (comments dropped, ``\\`` continuations
joined). A :class:`Walkthrough` runs them in a fresh clone of the course, each in bash, starting in
the directory and environment the previous command left behind, so ``cd``, ``source`` and ``export``
carry over as they do in a terminal. Commands that start JupyterLab (``make lab``, ``pglab lab``)
run headless on a free port until it serves the course, then are stopped. What a reader does by hand
between two commands (an answer typed in JupyterLab, files received by e-mail) is done by ``before``
hooks; ``after`` hooks check what the command produced. A hook that never fires fails the test, so a
page cannot drift away from its walkthrough.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from tests.support.lab_process import Lab, free_port, headless_args, new_token, running_lab

BLOCK = re.compile(r"^[ \t]*```(?:bash|sh)[ \t]*\n(.*?)^[ \t]*```", re.M | re.S)
INLINE = re.compile(r"`((?:pglab|make|nbgrader|docker|python|git) [^`]*)`")
LAB_COMMAND = re.compile(r"(^|\s)(make lab|pglab lab|jupyter lab)(\s|$)")
REPOSITORY_PLACEHOLDER = "<course-repository-url>"


def block_commands(page: Path) -> list[str]:
    commands = []
    for block in BLOCK.finditer(page.read_text(encoding="utf-8")):
        pending = ""
        for line in textwrap.dedent(block.group(1)).splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).rstrip()
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = (pending + line).strip()
            pending = ""
            if line:
                commands.append(line)
    return commands


def inline_commands(page: Path) -> list[str]:
    text = BLOCK.sub("", page.read_text(encoding="utf-8"))
    return INLINE.findall(text)


def command_key(command: str) -> tuple[str, ...]:
    """What makes two mentions the same command: the program and its sub-command (or target, script)."""
    words = command.split()
    if words[0] == "pglab" and len(words) > 1 and words[1] == "db":
        return tuple(words[:3])
    if words[0] == "docker":
        return tuple(words[:3])
    return tuple(words[:2])


def sample_pattern(sample: str) -> re.Pattern[str]:
    """A documented output as a pattern: numbers may differ, ``...`` stands for anything."""
    parts = []
    for piece in re.split(r"(\.\.\.|\d+(?:\.\d+)?)", sample.strip()):
        if piece == "...":
            parts.append(".*?")
        elif re.fullmatch(r"\d+(?:\.\d+)?", piece):
            parts.append(r"\d+(?:\.\d+)?")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def text_samples(page: Path) -> list[str]:
    return re.findall(r"^[ \t]*```text[ \t]*\n(.*?)^[ \t]*```", page.read_text(encoding="utf-8"), re.M | re.S)


def sample_starting(page: Path, prefix: str) -> str:
    found = [s for s in text_samples(page) if s.strip().startswith(prefix)]
    assert len(found) == 1, f"{page.name} should show one sample output starting with {prefix!r}"
    return found[0]


def walkthrough_environment(tmp: Path, course: Path) -> dict[str, str]:
    """A terminal's environment: no database settings, and the course's .venv not yet activated.

    ``course`` goes first on ``PYTHONPATH``: the shared .venv's editable install points at this
    checkout, and a reader's own install would point at their copy of the course.
    """
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and Path(p).resolve() != Path(venv_bin).resolve())
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "VIRTUAL_ENV", "PYTEST_")) and k != "DATABASE_URL"}
    env.update(PATH=path, PYTHONPATH=str(course), JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "jupyterlab-workspaces"))
    return env


def prepare_clone(project_root: Path, clone: Path) -> None:
    """Finish a ``git clone`` of this checkout so that it is the course as it stands, ready to use.

    The work tree's files (committed or not, never ignored ones) are laid over the clone, and files
    deleted from the work tree are deleted from it, so edits not yet committed are what gets tested.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=project_root, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = project_root / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    deleted = subprocess.run(["git", "diff", "-z", "--name-only", "--no-renames", "--diff-filter=D", "HEAD"],
                             cwd=project_root, capture_output=True, check=True).stdout.decode()
    for name in filter(None, deleted.split("\0")):  # deleted or moved away, not yet committed
        (clone / name).unlink(missing_ok=True)
    use_installed_venv(clone)


def use_installed_venv(course: Path) -> None:
    """Give a copy of the course the suite's installed ``.venv`` instead of a new install.

    ``pyproject.toml`` is dated before the install stamp so that ``make`` finds ``.venv`` up to date
    and does not reinstall the project from the copy.
    """
    (course / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    dated = installed_stamp().stat().st_mtime - 60
    os.utime(course / "pyproject.toml", (dated, dated))


def installed_stamp() -> Path:
    return Path(sys.prefix) / ".pglab-installed"


Hook = Callable[["Walkthrough"], None]
AfterHook = Callable[["Walkthrough", str], None]
LabHook = Callable[["Walkthrough", Lab], None]


@dataclass
class Walkthrough:
    cwd: Path
    env: dict[str, str]
    tmp: Path
    substitutions: dict[str, str] = field(default_factory=dict)
    before: dict[str, Hook] = field(default_factory=dict)
    after: dict[str, AfterHook] = field(default_factory=dict)
    during: dict[str, LabHook] = field(default_factory=dict)  # JupyterLab commands, while they serve
    covered_elsewhere: set[str] = field(default_factory=set)  # commands a named test covers instead
    fired: set[str] = field(default_factory=set)
    labs_started: int = 0

    def run_page(self, page: Path) -> None:
        for command in block_commands(page):
            if command not in self.covered_elsewhere:
                self.run(command)
        unfired = (set(self.before) | set(self.after) | set(self.during)) - self.fired
        assert not unfired, f"{page.name} no longer has these commands its walkthrough expects: {sorted(unfired)}"

    def run(self, command: str) -> str:
        if command in self.before:
            self.before[command](self)
            self.fired.add(command)
        line = command
        for placeholder, value in self.substitutions.items():
            line = line.replace(placeholder, value)
        output = self._run_lab(command, line) if LAB_COMMAND.search(line) else self._run_shell(line)
        if command in self.after:
            self.after[command](self, output)
            self.fired.add(command)
        return output

    def _run_shell(self, line: str) -> str:
        state = self.tmp / "shell-state"
        state.mkdir(exist_ok=True)
        script = (f"{line}\n__status=$?\nenv -0 > {state / 'env'}\npwd > {state / 'cwd'}\n"
                  "exit $__status\n")
        done = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=900)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"`{line}` (in {self.cwd}) exited with {done.returncode}:\n{output[-4000:]}"
        pairs = (item.split("=", 1) for item in (state / "env").read_text().split("\0") if "=" in item)
        self.env = {k: v for k, v in pairs if k not in ("_", "SHLVL", "OLDPWD", "PWD")}
        self.cwd = Path((state / "cwd").read_text().strip())
        return output

    def _run_lab(self, command: str, line: str) -> str:
        """Start JupyterLab headless, as the command would, and check it while it runs; then stop it.

        ``make lab`` and ``pglab lab`` must serve the course with a working ``DATABASE_URL``; any other
        JupyterLab (``jupyter lab`` for the formgrader) is checked by the command's ``during`` hook.
        """
        port, token = free_port(), new_token()
        extra = " ".join(headless_args(port, token))
        course_lab = line.split()[0] != "jupyter"
        if re.search(r"(^|\s)make lab", line):
            line = re.sub(r"\s+LAB_ARGS=\S+", "", line) + f' LAB_ARGS="{extra}"'
        elif course_lab:
            line = f"{line} {extra}"
        else:
            line = f"{line} {extra.replace(' -- ', ' ')}" + (" --allow-root" if os.geteuid() == 0 else "")
        self.labs_started += 1
        log = self.tmp / f"lab-{self.labs_started}.log"
        with running_lab(line, self.env, log, port, token, cwd=self.cwd, startup_s=180) as lab:
            assert "JupyterLab" in lab.get("/lab")
            if command in self.during:
                self.during[command](self, lab)
                self.fired.add(command)
            if course_lab:
                self._check_course_lab(lab)
        return log.read_text()

    def _check_course_lab(self, lab: Lab) -> None:
        served = lab.get("/api/contents")
        assert "01_psycopg2_vs_psycopg3.ipynb" in served and '"challenges"' in served
        url = lab.jupyter_server().environ()["DATABASE_URL"]
        if "DATABASE_URL" in self.env:
            assert url == self.env["DATABASE_URL"], "the kernels do not get the DATABASE_URL that was set"
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            assert cur.fetchone()[0] > 5000
        conn.close()

    def python(self, code: str) -> str:
        """Run Python in the walkthrough's current environment (after ``source .venv/bin/activate``)."""
        done = subprocess.run(["python", "-c", code], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=300)
        return done.stdout + done.stderr

