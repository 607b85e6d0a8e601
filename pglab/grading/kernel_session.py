"""A learner's code running in its own sandboxed kernel, driven from the grader's process.

The grader never runs checks inside the learner's kernel (nbgrader does, which lets a submission
rewrite the checks or print a score, nbgrader issue #1324). Here the kernel only executes the
learner's cells and answers narrow questions ("call this function with these JSON arguments");
the checks, the scoring and the reporting stay in the grader, out of the learner's reach.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.manager import KernelManager

from pglab.grading.checks import LearnerError

INTERRUPT_GRACE_S = 10.0


class SandboxError(Exception):
    """The kernel could not answer: it timed out, died, or refused to start."""


@dataclass(frozen=True)
class Limits:
    cell_timeout_s: float = 10.0
    call_timeout_s: float = 10.0
    submission_timeout_s: float = 120.0
    cpu_s: int = 120
    memory_mb: int = 2048
    nproc: int = 128
    fsize_mb: int = 64
    output_chars: int = 20_000


@dataclass
class CellRun:
    status: str  # ok | error | timeout | died
    output: str
    error: str = ""
    truncated: bool = False


class SandboxedKernelManager(KernelManager):
    """A KernelManager whose kernel command goes through :mod:`pglab.grading.sandbox`."""

    sandbox_args: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [
            sys.executable, "-m", "pglab.grading.sandbox", *self.sandbox_args, "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
        ]


@dataclass
class KernelSession:
    workdir: Path
    env: dict[str, str]
    limits: Limits
    user: str = ""
    hidden_paths: tuple[Path, ...] = ()
    _km: SandboxedKernelManager | None = field(default=None, init=False)
    _dead: str = field(default="", init=False)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        km = SandboxedKernelManager(kernel_name="python3")
        km.sandbox_args = [
            "--cpu", str(self.limits.cpu_s), "--memory-mb", str(self.limits.memory_mb),
            "--nproc", str(self.limits.nproc), "--fsize-mb", str(self.limits.fsize_mb),
            "--user", self.user, "--workdir", str(self.workdir),
            *[arg for path in self.hidden_paths for arg in ("--hide", str(path))],
        ]
        km.connection_file = str(self.workdir.parent / f".{self.workdir.name}-kernel.json")
        km.start_kernel(env=self.env, cwd=str(self.workdir), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self._km = km
        client = km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
        except RuntimeError as err:
            self.shutdown()
            raise SandboxError(f"the grading kernel did not start: {err}") from None
        self._client = client

    def shutdown(self) -> None:
        km = self._km
        if km is None:
            return
        process = getattr(km.provisioner, "process", None)
        pid = process.pid if process is not None else None
        try:
            if hasattr(self, "_client"):
                self._client.stop_channels()
            km.shutdown_kernel(now=True)
        except Exception:
            pass
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if self.user:
            kill_processes_of(self.user)
        Path(km.connection_file).unlink(missing_ok=True)
        self._km = None

    @property
    def alive(self) -> bool:
        return self._km is not None and not self._dead and self._km.is_alive()

    @property
    def death_reason(self) -> str:
        return self._dead

    # -- running code -------------------------------------------------------------------------

    def run_cell(self, code: str, timeout: float | None = None) -> CellRun:
        """Execute one learner cell, capturing at most ``output_chars`` of its output."""
        reply, output, truncated = self._execute(code, timeout or self.limits.cell_timeout_s, {})
        if reply is None:
            return CellRun(status=self._dead and "died" or "timeout", output=output,
                           error=self._dead or "timed out", truncated=truncated)
        if reply.get("status") == "error":
            return CellRun(status="error", output=output, truncated=truncated,
                           error=f"{reply.get('ename')}: {reply.get('evalue')}")
        return CellRun(status="ok", output=output, truncated=truncated)

    def evaluate(self, code: str, timeout: float | None = None) -> Any:
        """Run ``code`` (which sets ``result``) in a copy of the learner's namespace; return JSON."""
        wrapper = (
            "def __pglab_exec(__code):\n"
            "    from pglab.grading.wire import dumps as __d\n"
            "    scope = dict(globals())\n"
            "    try:\n"
            "        exec(__code, scope)\n"
            "        return __d({'ok': scope.get('result')})\n"
            "    except BaseException as e:\n"
            "        return __d({'error': [type(e).__name__, str(e)[:500]]})\n"
            f"__pglab_reply = __pglab_exec({code!r})\n"
        )
        limit = timeout or self.limits.call_timeout_s
        reply, output, _ = self._execute(wrapper, limit, {"reply": "__pglab_reply"})
        if reply is None:
            if self._dead:
                raise SandboxError(f"the kernel died ({self._dead})")
            raise SandboxError(f"no answer within {limit:.0f} s (an endless loop or a query that never ends?)")
        try:
            text = reply["user_expressions"]["reply"]["data"]["text/plain"]
            answer = json.loads(ast.literal_eval(text))
        except (KeyError, ValueError, SyntaxError, TypeError):
            raise SandboxError("the kernel sent back something that is not a result") from None
        if "error" in answer:
            name, message = answer["error"]
            if name == "KeyboardInterrupt":
                raise SandboxError(f"no answer within {limit:.0f} s (interrupted)")
            raise LearnerError(str(name), str(message))
        return answer.get("ok")

    def _execute(self, code: str, timeout: float, expressions: dict[str, str]
                 ) -> tuple[dict | None, str, bool]:
        if not self.alive:
            if self._km is not None and not self._dead:
                self._dead = "the kernel exited"
            return None, "", False
        client = self._client
        msg_id = client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False,
                                user_expressions=expressions)
        chunks: list[str] = []
        size = 0
        truncated = False
        reply: dict | None = None
        idle = False
        deadline = time.monotonic() + timeout
        interrupted = False
        while reply is None or not idle:
            now = time.monotonic()
            if now > deadline:
                if interrupted or reply is not None:
                    break
                interrupted = True
                self._interrupt()
                # A query in progress only sees the interrupt when it returns; the role's
                # statement_timeout (8 s) bounds that, so wait a little longer before giving up.
                deadline = now + INTERRUPT_GRACE_S
            try:
                msg = client.get_iopub_msg(timeout=0.05)
                if msg["parent_header"].get("msg_id") == msg_id:
                    kind, content = msg["msg_type"], msg["content"]
                    text = ""
                    if kind == "stream":
                        text = content.get("text", "")
                    elif kind in ("execute_result", "display_data"):
                        text = content.get("data", {}).get("text/plain", "") + "\n"
                    elif kind == "error":
                        text = f"{content.get('ename')}: {content.get('evalue')}\n"
                    elif kind == "status" and content.get("execution_state") == "idle":
                        idle = True
                    if text and size < self.limits.output_chars:
                        room = self.limits.output_chars - size
                        chunks.append(text[:room])
                        truncated = truncated or len(text) > room
                        size += len(text)
                    elif text:
                        truncated = True
            except Exception:
                pass
            if reply is None and client.shell_channel.msg_ready():
                msg = client.get_shell_msg(timeout=1)
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            if reply is None and not (self._km and self._km.is_alive()):
                self._dead = ("the kernel exited while running this code "
                              "(os._exit, a crash, or a resource limit)")
                return None, "".join(chunks), truncated
        if interrupted and reply is not None and reply.get("ename") == "KeyboardInterrupt":
            return None, "".join(chunks), truncated
        if reply is None and interrupted:
            self._dead = f"the kernel stopped responding after {timeout:.0f} s and an interrupt"
            return None, "".join(chunks), truncated
        return reply, "".join(chunks), truncated

    def _interrupt(self) -> None:
        try:
            if self._km is not None:
                self._km.interrupt_kernel()
        except Exception:
            pass


def kill_processes_of(user: str) -> None:
    """Kill every process of a sandbox user: whatever a submission forked, detached or not."""
    import pwd

    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return
    victims = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                proc.kill()
                victims.append(proc)
        except psutil.Error:
            continue
    psutil.wait_procs(victims, timeout=3)
