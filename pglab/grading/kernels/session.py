"""A learner's code running in its own sandboxed kernel, driven from the grader's process.

The grader never runs checks inside the learner's kernel (nbgrader does, which lets a submission
rewrite the checks or print a score, nbgrader issue #1324). Here the kernel only executes the
learner's cells and answers narrow questions ("call this function with these JSON arguments");
the checks, the scoring and the reporting stay in the grader, out of the learner's reach.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import select
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import psutil
import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from pglab.checks.submission import LearnerCodeError, SandboxError
from pglab.errors import FaultKind, GraderFault
from pglab.grading.kernels.confinement import Confinement
from pglab.grading.kernels.forkserver import ForkServer
from pglab.grading.outcome import CellStatus
from pglab.grading.timeouts import TIMEOUTS, Limits
from pglab.messages import ANSWER_CHARS, ANSWER_MIME, decode_answer

MAX_OUTPUTS = 200  # outputs kept per cell for scoring (the text limit bounds their size)
TRACEBACK_LINES = 50  # of an error's traceback, kept with its output: which line of a test cell failed


@dataclass
class CellRun:
    status: CellStatus
    output: str
    error: str = ""
    truncated: bool = False
    # The cell's outputs in nbformat's shape (text cut to the same limit), in order: what
    # nbgrader's grading rule reads (an error, a write to stderr, a number as the cell's result).
    outputs: list[dict] = field(default_factory=list)


class _Output:
    """A cell's printed output, kept up to a limit (a submission may print gigabytes)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.size = 0
        self.truncated = False
        self.outputs: list[dict] = []

    def add(self, text: str, output: dict | None = None) -> None:
        room = self.limit - self.size
        if len(text) > room:
            self.truncated = True
        if room > 0:
            self.chunks.append(text[:room])
        self.size += len(text)
        if output is not None and len(self.outputs) < MAX_OUTPUTS:
            self.outputs.append(output)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass
class KernelSession:
    """One kernel forked by a :class:`ForkServer`, confined, and driven over the Jupyter protocol."""

    workdir: Path
    env: dict[str, str]
    limits: Limits
    forkserver: ForkServer
    user: str = ""
    hidden_paths: tuple[Path, ...] = ()
    _pid: int | None = field(default=None, init=False)
    _pidfd: int | None = field(default=None, init=False)
    _initfd: int | None = field(default=None, init=False)  # PID 1 of the kernel's namespace (sandbox)
    _generation: int | None = field(default=None, init=False)  # of the fork server that forked it
    _captured: Any = field(default=None, init=False)
    _poller: Any = field(default=None, init=False)
    _dead: str = field(default="", init=False)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        connection_file = self.workdir / ".kernel-connection.json"
        # IPC sockets in the kernel's own folder, not TCP: in the sandbox the kernel has no network.
        write_connection_file(str(connection_file), transport="ipc", ip=str(self.workdir / ".kernel"))
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(connection_file, entry.pw_uid, entry.pw_gid)
        confinement = Confinement(
            workdir=str(self.workdir), cpu_s=self.limits.cpu_s, memory_mb=self.limits.memory_mb,
            nproc=self.limits.nproc, fsize_mb=self.limits.fsize_mb, user=self.user,
            hide=[str(p) for p in self.hidden_paths])
        process = self.forkserver.spawn(str(connection_file), self.env, confinement)
        self._pid, self._generation = process.pid, process.generation
        try:  # pidfds, never pids: the system reaps kernels at once, and pids come round again
            self._pidfd = os.pidfd_open(process.pid)
            self._initfd = os.pidfd_open(process.init) if process.init else None
        except ProcessLookupError:
            self._pidfd = None  # it exited at once: _process_alive says so
        client = BlockingKernelClient(connection_file=str(connection_file))
        client.load_connection_file()
        client.start_channels()
        self._client = client
        self._poller = zmq.Poller()
        self._poller.register(client.iopub_channel.socket, zmq.POLLIN)
        self._poller.register(client.shell_channel.socket, zmq.POLLIN)
        self._wait_until_ready(timeout=TIMEOUTS.kernel_ready_s)

    def _wait_until_ready(self, timeout: float) -> None:
        """Ready means both channels work: a kernel_info reply on shell AND its status on iopub
        (a SUB socket drops what is published before its subscription lands: ZeroMQ's slow joiner)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._process_alive():
            msg_id = self._client.kernel_info()
            if self._await(self._client.shell_channel.get_msg, msg_id, 1.0) and \
                    self._await(self._client.iopub_channel.get_msg, msg_id, 0.3):
                return
        self.shutdown()
        raise SandboxError("the grading kernel did not start (it exited, or did not answer within "
                           f"{timeout:.0f} s)")

    @staticmethod
    def _await(receive: Any, msg_id: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                if receive(timeout=left)["parent_header"].get("msg_id") == msg_id:
                    return True
            except Empty:
                return False
        return False

    def _process_alive(self) -> bool:
        """Asked of the kernel's pidfd, never of its pid: the fork server lets the system reap
        kernels at once, and on a busy machine their pids are soon handed to other processes."""
        if self._pidfd is None:
            return False
        return not select.select([self._pidfd], [], [], 0)[0]

    def shutdown(self) -> None:
        if self._pid is None:
            return
        with contextlib.suppress(Exception):
            self._client.stop_channels()
        all_gone = False
        if self._initfd is not None:  # PID 1 of the kernel's namespace: every process in there goes with it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                signal.pidfd_send_signal(self._initfd, signal.SIGKILL)
            # A namespace's init exits only once every other process in it has (the kernel's
            # zap_pid_ns_processes), so its pidfd turning readable means the sandbox is empty: no
            # look through every process of the machine (22 ms of CPU per notebook) is needed.
            with contextlib.suppress(OSError, ValueError):
                all_gone = bool(select.select([self._initfd], [], [], TIMEOUTS.kill_wait_s)[0])
            os.close(self._initfd)
            self._initfd = None
        elif self._process_alive():  # its pid is its group's id, and cannot have been reused
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)
        if self.user and not all_gone:
            kill_processes_of(self.user)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._pid = None

    @property
    def alive(self) -> bool:
        if self._dead:
            return False
        if self._process_alive():
            return True
        self._fault_if_sandbox_lost()
        return False

    def started_alive(self) -> bool:
        """Started and still running, asked before any code of the learner's is given to it (a
        kernel made ahead may have died waiting: its fork server killed, the machine out of memory)."""
        return self._pid is not None and not self._dead and self._process_alive()

    def _fault_if_sandbox_lost(self) -> None:
        """A kernel that died because its sandbox did (the fork server's ``bwrap`` was killed, and its
        PID namespace with it) says nothing about the learner's code: that is the grader's fault."""
        if self._generation is not None and self.forkserver.lost(self._generation):
            raise GraderFault(FaultKind.KERNEL, "the grading sandbox stopped (its fork server died) under this kernel")

    def cpu_seconds(self) -> float:
        """CPU time the kernel has used so far (0 when it cannot be read): the rest of a phase's
        wall time is waiting (sleeps, the database, the grader's round trips)."""
        if self._pid is None:
            return 0.0
        try:
            used = psutil.Process(self._pid).cpu_times()
        except psutil.Error:
            return 0.0
        return used.user + used.system

    @property
    def death_reason(self) -> str:
        return self._dead

    # -- running code -------------------------------------------------------------------------

    def run_cell(self, code: str, timeout: float | None = None) -> CellRun:
        """Execute one learner cell, capturing at most ``output_chars`` of its output."""
        reply, output = self._execute(code, timeout or self.limits.cell_timeout_s)
        if reply is None:
            return CellRun(status=CellStatus.DIED if self._dead else CellStatus.TIMEOUT, output=output.text,
                           error=self._dead or "timed out", truncated=output.truncated, outputs=output.outputs)
        if reply.get("status") == "error":
            return CellRun(status=CellStatus.ERROR, output=output.text, truncated=output.truncated,
                           error=f"{reply.get('ename')}" + (f": {reply['evalue']}" if reply.get("evalue") else ""),
                           outputs=output.outputs)
        return CellRun(status=CellStatus.OK, output=output.text, truncated=output.truncated, outputs=output.outputs)

    def evaluate(self, code: str, timeout: float | None = None) -> Any:
        """Run ``code`` (which sets ``result``) in a copy of the learner's namespace; return JSON.

        The answer comes back as a display message of its own MIME type, tied to this request,
        so the grader parses plain JSON (never pickle, never a repr).
        """
        wrapper = (
            "def __pglab_exec(__code):\n"
            "    from IPython.display import publish_display_data as __p\n"
            "    from pglab.messages import encode_answer as __e\n"
            "    scope = dict(globals())\n"
            "    try:\n"
            "        exec(__code, scope)\n"
            "        answer = __e(scope.get('result'))\n"
            "    except BaseException as e:\n"
            "        answer = __e(raised=e)\n"
            f"    __p({{{ANSWER_MIME!r}: answer}})\n"
            f"__pglab_exec({code!r})\n"
        )
        limit = timeout or self.limits.call_timeout_s
        reply, _ = self._execute(wrapper, limit, capture=ANSWER_MIME)
        if reply is None:
            if self._dead:
                raise SandboxError(f"the kernel died ({self._dead})")
            raise SandboxError(f"no answer within {limit:.0f} s (an endless loop or a query that never ends?)")
        answer = decode_answer(self._captured)
        if answer is not None and answer.too_large:
            raise SandboxError(f"your code gave back a value too large to check (over {ANSWER_CHARS:,} characters "
                               "as JSON): return only what was asked for")
        if answer is None:
            raise SandboxError("the kernel sent back something that is not a result")
        if answer.raised is not None:
            name, message = answer.raised
            if name == "KeyboardInterrupt":
                raise SandboxError(f"no answer within {limit:.0f} s (interrupted)")
            raise LearnerCodeError(name, message)
        return answer.value

    def _execute(self, code: str, timeout: float, capture: str = "") -> tuple[dict | None, _Output]:
        """Send ``code``; collect its output until both its reply and its idle status arrived.

        Waits on the two sockets with one zmq poller: jupyter_client's blocking getters run an
        asyncio loop per call, which costs more CPU than the grading itself when polled in a loop.
        """
        if not self.alive:
            if self._pid is not None and not self._dead:
                self._dead = "the kernel exited"
            return None, _Output(self.limits.output_chars)
        iopub, shell = self._client.iopub_channel, self._client.shell_channel
        msg_id = self._client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        self._captured = None
        output = _Output(self.limits.output_chars)
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
                # statement_timeout bounds that, so wait a little longer before giving up (timeouts).
                deadline = now + TIMEOUTS.interrupt_grace_s
            if interrupted and idle and reply is None:
                # The interrupt came after the cell's code, while ipykernel was about to reply: it
                # catches that KeyboardInterrupt, drops the reply and goes idle. Idle, the kernel is
                # fine; the reply travels on another socket, so it gets a moment to arrive first.
                deadline = min(deadline, now + TIMEOUTS.reply_after_idle_s)
            ready = dict(self._poller.poll(int(min(0.2, max(deadline - now, 0.001)) * 1000)))
            if iopub.socket in ready:
                msg = iopub._recv()
                if msg["parent_header"].get("msg_id") == msg_id:
                    idle = self._on_iopub(msg, capture, output) or idle
            if shell.socket in ready:
                msg = shell._recv()
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            if not ready and reply is None and not self._process_alive():
                self._fault_if_sandbox_lost()
                self._dead = ("the kernel exited while running this code "
                              "(os._exit, a crash, or a resource limit)")
                return None, output
        if interrupted and reply is not None and reply.get("ename") == "KeyboardInterrupt":
            return None, output
        if interrupted and reply is None and idle:
            return None, output  # interrupted between its code and its reply (above): a timeout
        if reply is None and interrupted:
            self._dead = f"the kernel stopped responding after {timeout:g} s and an interrupt"
            return None, output
        return reply, output

    def _on_iopub(self, msg: dict, capture: str, output: _Output) -> bool:
        """Record one output message; True when it is the request's final idle status."""
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text = content.get("text", "")
            output.add(text, {"output_type": "stream", "name": content.get("name", "stdout"),
                              "text": text[:output.limit]})
        elif kind == "display_data" and capture and capture in content.get("data", {}):
            self._captured = content["data"][capture]
        elif kind in ("execute_result", "display_data"):
            plain = content.get("data", {}).get("text/plain", "")
            shaped: dict = {"output_type": kind, "data": {"text/plain": plain[:output.limit]}, "metadata": {}}
            if kind == "execute_result":
                shaped["execution_count"] = None
            output.add(plain + "\n", shaped)
        elif kind == "error":
            traceback = [str(line)[:output.limit] for line in content.get("traceback", [])[:TRACEBACK_LINES]]
            output.add(f"{content.get('ename')}: {content.get('evalue')}\n",
                       {"output_type": "error", "ename": str(content.get("ename")),
                        "evalue": str(content.get("evalue"))[:output.limit], "traceback": traceback})
        elif kind == "status":
            return content.get("execution_state") == "idle"
        return False

    def _interrupt(self) -> None:
        if self._pidfd is not None and self._process_alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGINT)


def kill_processes_of(user: str) -> None:
    """Kill every process of a sandbox user: whatever a submission forked, detached or not."""
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
