"""Confinement for one grading kernel, applied in the kernel's own process before it starts.

It starts a new session (so the grader can kill the whole process group), covers instructor-only
folders with an empty tmpfs in a private mount namespace, sets resource limits (CPU seconds,
address space, processes+threads, file size) and, when started as root, switches to an
unprivileged user whose only writable place is the submission's working directory. Limits are
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
    """Apply ``spec`` to the current process; irreversible (privileges are dropped last)."""
    with contextlib.suppress(OSError):  # already a session leader
        os.setsid()
    user = pwd.getpwnam(spec.user) if spec.user and os.geteuid() == 0 else None
    if spec.hide and os.geteuid() == 0:
        hide_paths(spec.hide)
    resource.setrlimit(resource.RLIMIT_CPU, (spec.cpu_s, spec.cpu_s + 5))
    resource.setrlimit(resource.RLIMIT_AS, (spec.memory_mb * MB, spec.memory_mb * MB))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec.fsize_mb * MB, spec.fsize_mb * MB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if user is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (spec.nproc, spec.nproc))
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    else:
        # Not root: the limit counts every thread of this user, so leave room for the rest.
        limit = _threads_of_this_user() + spec.nproc
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    os.chdir(spec.workdir)


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
