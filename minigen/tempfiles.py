"""Temporary files written beside their target and then renamed onto it: names that say
who wrote them, and the removal of those that a killed writer left behind.

    .<target name>.minigen.<host>.<pid>.<8 hex digits><suffix>
    e.g. .ckpt.npz.minigen.lab3.4711.9f86d081.tmp

A process killed with kill -9 cannot remove its temporary file. The next writer into
the same folder removes every file of this pattern whose writer is gone: written on
this host by a process id that no longer runs, or last changed more than STALE_AFTER
seconds ago (written on another host sharing the folder). Temporaries of the target
under the name minigen used before, ``.<target name>.<8 hex digits><suffix>``, go by
age alone. Files of any other name are never touched.
"""
import os
import re
import socket
import time
import uuid

STALE_AFTER = 3600  # seconds without a write after which a temporary from elsewhere is abandoned


def temporary_path(target, suffix):
    """A fresh temporary path beside ``target``, in the pattern above."""
    directory, name = os.path.split(os.path.abspath(target))
    return os.path.join(directory, f".{name}.minigen.{_host()}.{os.getpid()}.{uuid.uuid4().hex[:8]}{suffix}")


def remove_stale(target, suffix):
    """Remove the abandoned temporaries (``suffix``) in the folder of ``target``; returns their paths."""
    directory, name = os.path.split(os.path.abspath(target))
    ours = re.compile(rf"\..+\.minigen\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]{{8}}{re.escape(suffix)}")
    older = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{8}}{re.escape(suffix)}")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:  # no folder yet, or one we cannot read: nothing of ours to remove
        return removed
    for entry in entries:
        match = ours.fullmatch(entry.name)
        if match:
            abandoned = (match["host"] == _host() and not _running(int(match["pid"]))) or _old(entry)
        else:
            abandoned = older.fullmatch(entry.name) is not None and _old(entry)
        if abandoned and _unlink(entry.path):
            removed.append(entry.path)
    return removed


def _host():
    """This machine's name, reduced to letters, digits and dashes (it sits between dots)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _running(pid):
    """Whether a process with this id runs on this machine (unknown off POSIX: assume it does)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # an id too large to be any process
        return False
    return True


def _old(entry):
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
    except OSError:  # removed meanwhile by another writer
        return False


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:  # removed meanwhile, or not ours to remove (a sticky folder)
        return False
    return True
