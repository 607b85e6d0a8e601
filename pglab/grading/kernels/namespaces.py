"""Per-kernel isolation inside the grading sandbox: Linux namespaces entered by a forked child.

bubblewrap (:mod:`pglab.grading.kernels.bubblewrap`) starts the fork server once in a sandbox of its own: no
network, a read-only view of the system and the Python, the grading workspace the only writable
folder. Each kernel the server forks must also be kept from its siblings (other learners' kernels)
without paying for a fresh ``bwrap`` + ``python`` (~0.7 s of CPU). So the forked child, still a copy
of the pre-loaded server, enters namespaces of its own (a few milliseconds):

* a user namespace (unprivileged; its own uid mapped to itself), owning
* a mount namespace in which the workspace is covered by an empty read-only tmpfs with only this
  kernel's folder bound back, and a fresh ``/proc`` of
* a PID namespace: a tiny init is PID 1, the kernel PID 2, so ``kill(-1)``, ``/proc`` and ``ptrace``
  reach only the kernel's own processes, and killing the init from outside ends all of them;
* a network, IPC and UTS namespace: no sockets shared with the siblings' loopback.

Before any learner code runs the kernel drops every capability and sets ``no_new_privs``: it cannot
undo the mounts (they belong to a namespace it holds no capability in) nor regain privileges by exec.

Why the outer sandbox binds the host's ``/proc`` for the server: the kernel allows a new ``/proc``
in a user namespace only while a fully visible one exists in the mount namespace, and bubblewrap's
``--proc`` covers ``/proc/sys`` & co., which makes the nested mount fail with EPERM. The fork server
runs no learner code; each kernel mounts its own ``/proc`` over that one, and the mount below is
locked (it came from a more privileged namespace), so the kernel cannot uncover it.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
KERNEL_NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, flags, data.encode() if data else None),
           f"mounting {target}")


def enter_kernel_namespaces(workdir: str, database_socket: list[str] | None = None) -> None:
    """Make this process the owner of new namespaces in which only ``workdir`` of the workspace exists.

    ``database_socket``: (the server's socket folder, the socket's place for the kernel): the socket
    of the moment is bound there, and the folder covered. Children forked afterwards are in the new
    PID namespace (the caller itself is not).
    """
    uid, gid = os.getuid(), os.getgid()
    # After a setuid() from root the process is not dumpable and /proc/self belongs to root:
    # the uid map below could not be written.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    _check(_libc.unshare(KERNEL_NAMESPACES), "unshare (are user namespaces enabled?)")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Opened in the new mount namespace: a bind mount's source must be a mount of this namespace.
    folder = os.open(workdir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        workspace = os.path.dirname(workdir.rstrip("/"))
        _mount("tmpfs", workspace, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=755")
        os.mkdir(workdir, 0o700)
        _mount(f"/proc/self/fd/{folder}", workdir, None, MS_BIND)
        _mount(None, workspace, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    finally:
        os.close(folder)
    if database_socket:
        server_dir, target = database_socket
        source = os.path.join(server_dir, os.path.basename(target))
        socket_dir = os.path.dirname(target)
        _mount("tmpfs", socket_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=755")
        with open(target, "w"):  # the mount point; left as it is while the server is down (refused)
            pass
        if os.path.exists(source):
            _mount(source, target, None, MS_BIND)
        _mount(None, socket_dir, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _mount("tmpfs", server_dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=755")


def host_pids() -> tuple[int, int]:
    """(this process, its parent) as the grader outside sees them: read from the host's ``/proc``,
    which is still mounted until :func:`mount_own_proc` covers it."""
    pid = int(os.readlink("/proc/self"))
    with open(f"/proc/{pid}/stat") as f:
        parent = int(f.read().rsplit(")", 1)[1].split()[1])
    return pid, parent


def mount_own_proc() -> None:
    """A ``/proc`` showing only this PID namespace (call from a process inside it)."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def drop_privileges() -> None:
    """No capabilities (in any namespace), now or after an exec; no setuid gains either."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap}")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
