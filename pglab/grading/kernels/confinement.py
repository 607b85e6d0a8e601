"""Confinement for one grading kernel, applied in the kernel's own process before it starts.

Inside the grading sandbox (:mod:`pglab.grading.kernels.bubblewrap`, :mod:`pglab.grading.kernels.namespaces`)
this module supplies the resource limits and, as root, the switch to the throw-away user. Without
the sandbox (``--unsafe-no-sandbox``) :func:`confine` is all there is: it starts a new session (so
the grader can kill the whole process group), covers instructor-only folders with an empty tmpfs in
a private mount namespace, sets resource limits (CPU seconds, address space, processes+threads, file
size) and, when started as root, switches to an unprivileged user whose only writable place is the
submission's working directory. Limits are
inherited by everything the learner's code forks, so a fork bomb or a memory hog hits its own
ceiling.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import resource
from dataclasses import dataclass, field

MB = 1024 * 1024


@dataclass(frozen=True)
class Confinement:
    workdir: str
    cpu_s: int
    memory_mb: int
    nproc: int
    fsize_mb: int
    user: str = ""
    hide: list[str] = field(default_factory=list)


def confine(spec: Confinement) -> None:
    """Apply ``spec`` to the current process; irreversible (privileges are dropped last).

    This is all the protection there is with ``--unsafe-no-sandbox``; in the sandbox the kernel
    uses :func:`switch_user` and :func:`set_limits` around its namespaces instead.
    """
    with contextlib.suppress(OSError):  # already a session leader
        os.setsid()
    as_root = bool(spec.user) and os.geteuid() == 0
    if spec.hide and os.geteuid() == 0:
        hide_paths(spec.hide)
    # Not root: the limit counts every thread of this user, so leave room for the rest.
    set_limits(spec, nproc=spec.nproc if as_root else _threads_of_this_user() + spec.nproc)
    if as_root:
        switch_user(spec.user)
    os.chdir(spec.workdir)


def set_limits(spec: Confinement, nproc: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (spec.cpu_s, spec.cpu_s + 5))
    resource.setrlimit(resource.RLIMIT_AS, (spec.memory_mb * MB, spec.memory_mb * MB))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec.fsize_mb * MB, spec.fsize_mb * MB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def switch_user(name: str) -> None:
    """Become the throw-away grading user ``name`` for good (needs root's setuid/setgid)."""
    user = pwd.getpwnam(name)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def hide_paths(paths: list[str]) -> None:
    """In a private mount namespace, cover instructor-only folders with an empty, closed tmpfs.

    Needs root (CAP_SYS_ADMIN); the grader only asks for it when it runs as root. The grader's own
    process is unaffected: the mounts exist only in the kernel's namespace.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newns, ms_rec, ms_private = 0x00020000, 16384, 1 << 18
    if libc.unshare(clone_newns) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    if libc.mount(b"none", b"/", None, ms_rec | ms_private, None) != 0:
        raise OSError(ctypes.get_errno(), "making mounts private failed")
    for path in paths:
        mounted = os.path.isdir(path) and libc.mount(b"tmpfs", path.encode(), b"tmpfs", 0, b"size=4k,mode=000") == 0
        if os.path.isdir(path) and not mounted:
            raise OSError(ctypes.get_errno(), f"hiding {path} failed")


def _threads_of_this_user() -> int:
    import psutil

    uid = os.getuid()
    total = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                total += proc.info["num_threads"] or 1
        except psutil.Error:
            continue
    return total
