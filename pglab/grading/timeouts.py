"""Every bound the grader waits within, in one place, and how the bounds must relate.

Nothing in ``pglab grade`` waits without a deadline; the deadlines depend on each other (a kernel
interrupted mid-query is waited for a little longer than the query can still run; a sandbox is
waited for longer than a kernel start and a database copy together). They used to say so in
comments in five modules; here :meth:`GraderTimeouts.problems` says so in code, and
:func:`check` refuses a run whose bounds (or whose ``--cell-timeout``/``--notebook-timeout``)
contradict each other, in one line, before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglab.errors import SettingsError


@dataclass(frozen=True)
class Limits:
    """What one submission may use: the limits a learner meets (``pglab grade``'s flags set the first three)."""

    cell_timeout_s: float = 10.0
    call_timeout_s: float = 10.0
    submission_timeout_s: float = 120.0
    cpu_s: int = 120
    memory_mb: int = 2048
    nproc: int = 128
    fsize_mb: int = 64
    output_chars: int = 20_000


@dataclass(frozen=True)
class GraderTimeouts:
    """Seconds. The learner-facing limits (a cell, a call, a notebook) are :class:`Limits`."""

    kernel_spawn_s: float = 30.0  # the fork server forks a kernel and answers with its process ids
    kernel_report_s: float = 20.0  # a forked kernel reports to the fork server (inside kernel_spawn_s)
    forkserver_start_s: float = 90.0  # the fork server imports what kernels need and says it is ready
    kernel_ready_s: float = 60.0  # a started kernel answers on both of its channels
    kill_wait_s: float = 3.0  # a killed kernel's sandbox (its PID namespace) is empty
    interrupt_grace_s: float = 10.0  # an interrupted cell ends: a query in progress ends within its statement_timeout
    reply_after_idle_s: float = 1.0  # an interrupted kernel said idle: its reply, if it sent one, arrives
    sandbox_wait_s: float = 180.0  # a sandbox made ahead (a kernel start and a database copy) becomes ready
    lease_wait_s: float = 180.0  # a sandbox user comes free
    checks_start_s: float = 120.0  # a check runner imports pytest and collects every check module
    checks_answer_s: float = 60.0  # a check's own Python and SQL, between two messages of its runner
    gradebook_start_s: float = 60.0  # the gradebook writer imports nbgrader and says it is ready
    gradebook_answer_s: float = 300.0  # ... records a whole class and exports it (300 learners: ~3 s)
    submission_statement_s: float = 8.0  # a submission's database role: statement_timeout
    submission_lock_s: float = 3.0  # ... lock_timeout
    submission_idle_s: float = 30.0  # ... idle_in_transaction_session_timeout
    admin_statement_s: float = 60.0  # the grader's own admin connection: statement_timeout (a database copy)
    admin_lock_s: float = 30.0  # ... lock_timeout

    def problems(self, limits: Limits) -> list[str]:
        """Each relation between the bounds that does not hold, in words."""
        rules = [
            (self.kernel_report_s < self.kernel_spawn_s,
             "a kernel's report must come before the grader stops waiting for the fork server"),
            (self.interrupt_grace_s > self.submission_statement_s,
             "an interrupted cell must be waited for longer than a query of it can still run"),
            (self.reply_after_idle_s < self.interrupt_grace_s,
             "a reply after idle must be waited for less than an interrupted cell"),
            (self.submission_lock_s < self.submission_statement_s,
             "a submission's lock wait must end before its statement does"),
            (self.sandbox_wait_s > self.kernel_ready_s + self.admin_statement_s,
             "a sandbox must be waited for longer than a kernel start and a database copy"),
            (self.checks_answer_s > self.submission_statement_s,
             "a check's own query must end before its runner is taken for stuck"),
            (min(limits.cell_timeout_s, limits.call_timeout_s, limits.submission_timeout_s) > 0,
             "the cell, call and notebook time limits must be more than 0 s"),
            (limits.cell_timeout_s <= limits.submission_timeout_s,
             f"a cell's limit ({limits.cell_timeout_s:g} s) must not exceed the notebook's "
             f"({limits.submission_timeout_s:g} s): lower --cell-timeout or raise --notebook-timeout"),
        ]
        return [why for holds, why in rules if not holds]


TIMEOUTS = GraderTimeouts()
NOTEBOOK_TIMEOUT_S = Limits.submission_timeout_s


def limits_for(cell_timeout_s: float | None = None, notebook_timeout_s: float | None = None,
               course_cell_timeout_s: float | None = None) -> Limits:
    """The limits of a run: ``--cell-timeout``/``--notebook-timeout`` when given, else the course's
    nbgrader cell timeout (``--source``: a course is graded by its own timeout, not pglab's; 0 for
    none), else pglab's defaults. A notebook's budget, unless given, is never shorter than a cell's."""
    cell = cell_timeout_s if cell_timeout_s is not None else course_cell_timeout_s
    if cell is None:
        cell = Limits.cell_timeout_s
    notebook = notebook_timeout_s
    if notebook is None:
        notebook = max(NOTEBOOK_TIMEOUT_S, cell)
    if cell == 0 and cell_timeout_s is None:  # nbgrader's "no limit": a cell may use the notebook's time
        cell = notebook
    return Limits(cell_timeout_s=cell, call_timeout_s=cell, submission_timeout_s=notebook)


def check(limits: Limits, timeouts: GraderTimeouts = TIMEOUTS) -> None:
    """Refuse, in one line, bounds that contradict each other."""
    problems = timeouts.problems(limits)
    if problems:
        raise SettingsError("the grader's time limits contradict each other: " + "; ".join(problems))


def seconds(value: float) -> str:
    """A bound as PostgreSQL settings take it: ``8s``."""
    return f"{value:g}s"
