"""Launcher for a grading kernel: limits first, then the kernel itself (``exec``).

Run as ``python -m pglab.grading.sandbox [limits] -- python -m ipykernel_launcher -f FILE``. It starts
a new session (so the grader can kill the whole process group), sets resource limits (CPU seconds,
address space, processes+threads, file size), and when started as root switches to an unprivileged
per-slot user whose only writable place is the submission's working directory. Limits are inherited
by everything the learner's code forks, so a fork bomb or a memory hog hits its own ceiling.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import pwd
import resource
import shutil
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pglab.grading.sandbox")
    parser.add_argument("--cpu", type=int, required=True, help="CPU seconds for the whole kernel")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--nproc", type=int, required=True, help="processes + threads of the user")
    parser.add_argument("--fsize-mb", type=int, required=True)
    parser.add_argument("--user", default="")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--hide", action="append", default=[], help="make this directory look empty")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"]
    with contextlib.suppress(OSError):  # already a session leader if started with start_new_session
        os.setsid()

    user = pwd.getpwnam(args.user) if args.user and os.geteuid() == 0 else None
    if user is not None and "-f" in command:
        # The connection file belongs to the grader (mode 0600): hand the kernel its own copy.
        index = command.index("-f") + 1
        private = os.path.join(args.workdir, ".kernel-connection.json")
        shutil.copyfile(command[index], private)
        os.chown(private, user.pw_uid, user.pw_gid)
        command[index] = private

    if args.hide and os.geteuid() == 0:
        hide_paths(args.hide)

    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_mb * mb, args.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize_mb * mb, args.fsize_mb * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if user is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    else:
        # Not root: the limit counts every thread of this user, so leave room for the rest.
        resource.setrlimit(resource.RLIMIT_NPROC, (_threads_of_this_user() + args.nproc,) * 2)
    os.chdir(args.workdir)
    os.execv(command[0], command)


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


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(1)
