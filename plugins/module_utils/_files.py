# Private to the mtls.nginx collection: not a public API, may change without notice.
"""File handling shared by the modules: atomic writes and attribute checks, no Ansible needed."""
from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError


class FileError(MtlsError):
    """A file cannot be read or written; the message names the file and the fix."""


def octal_mode(value, option, maximum=0o7777):
    """A file mode from an octal string such as "0644"; the error names the option."""
    try:
        mode = int(str(value), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= maximum:
        raise FileError(f"{option} must be an octal string such as \"0644\", got {value!r}")
    return mode


def read_bytes(path):
    """Return the file's content, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}; check its permissions") from exc


def check_writable_dir(path, option, check_mode=False):
    """Fail early, naming the option, when the file's directory cannot take a new file.

    In check mode a missing directory is no error: an earlier task of the same run may be the
    one that would create it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if check_mode and not os.path.exists(directory):
        return
    if not os.path.isdir(directory):
        raise FileError(f"{option}: directory {directory} does not exist; create it first")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise FileError(f"{option}: directory {directory} is not writable by this user")


def make_dirs(directory):
    """Create directory and any missing parents, each with mode 0700 (owner only)."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except OSError as exc:
            raise FileError(f"cannot create directory {path}: {exc.strerror}") from None


def resolve_owner(owner, group):
    """Map user and group names (or numeric ids) to ids; None keeps the current one."""
    uid = gid = None
    try:
        if owner is not None:
            uid = int(owner) if str(owner).isdigit() else pwd.getpwnam(owner).pw_uid
        if group is not None:
            gid = int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise FileError(f"owner/group: no such user or group {exc.args[0]!r}") from None
    return uid, gid


def attributes_differ(path, mode, uid=None, gid=None):
    """True when an existing file's mode, owner or group differs from the wanted ones."""
    info = os.stat(path)
    return (
        stat.S_IMODE(info.st_mode) != mode
        or (uid is not None and info.st_uid != uid)
        or (gid is not None and info.st_gid != gid)
    )


def set_attributes(path, mode, uid=None, gid=None):
    os.chmod(path, mode)
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)


def write_atomic(path, data, mode, uid=None, gid=None):
    """Write data so that readers see the old file or the new one, never a partial one.

    The temporary file lives in the target's directory (same filesystem, so the rename is
    atomic), gets its mode and owner before it has any content, and is fsynced before the
    rename; the directory is fsynced after it so the rename itself survives a crash.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        if uid is not None or gid is not None:
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove(path):
    """Remove a file; True when there was one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def apply(writes, managed, owner=None, group=None, check_mode=False):
    """Carry out planned writes and fix the attributes of the files kept; True when anything changed.

    writes: (path, data, mode) triples; managed: {path: mode} for every file the module owns.
    Every target directory is checked before the first write, so bad input changes no file.
    """
    uid, gid = resolve_owner(owner, group)
    written = {path for path, _data, _mode in writes}
    for path in written:
        check_writable_dir(path, path, check_mode)
    fixes = [(path, mode) for path, mode in managed.items()
             if path not in written and os.path.exists(path) and attributes_differ(path, mode, uid, gid)]
    if not check_mode:
        for path, data, mode in writes:
            write_atomic(path, data, mode, uid, gid)
        for path, mode in fixes:
            set_attributes(path, mode, uid, gid)
    return bool(writes or fixes)


def remove_all(paths, check_mode=False):
    """Remove the files that exist; returns the ones that did."""
    present = [path for path in paths if os.path.lexists(path)]
    if not check_mode:
        for path in present:
            remove(path)
    return present


def sync(directories, files, uid, gid, check_mode=False, absent=(), validate=None, exclusive=()):
    """Directories [(path, mode)], files [(path, data, mode, command)] as given, absent paths removed,
    and in each exclusive directory every file (or link) that files does not list, last.

    One call for all of a host's small files (certificates, CRL, key, pages, configuration):
    only what differs in content, mode or owner is written, each file atomically. A file with a
    command (containing %s) is written after all the others, and only when validate(command with
    %s replaced by a temporary copy's path) succeeds; with validate None (its checker is not
    installed yet) such files are left alone and returned as deferred. Check mode validates
    nothing (the files a candidate names are not written either). Every path must be absolute;
    a directory that is a symbolic link is refused. Returns (changed, deferred).
    """
    for option, paths in (("directories", [path for path, _mode in directories]),
                          ("files", [path for path, _data, _mode, _command in files]), ("absent", absent)):
        for index, path in enumerate(paths):
            if not os.path.isabs(path):
                raise FileError(f"{option}[{index}]: {path} must be an absolute path")
    for index, (path, _mode) in enumerate(directories):
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            raise FileError(f"directories[{index}]: {path} is a symbolic link or not a directory; give the real"
                            " directory's path (an existing directory is never followed, chmodded or chowned)")
    changed, deferred = [], []
    for path, mode in directories:
        # Only a directory this call creates gets the mode and owner: an existing one is somebody's
        # (a shared textfile directory, a sticky /tmp-like one) and is left as it is.
        if not os.path.isdir(path):
            changed.append(path)
            if not check_mode:
                os.makedirs(path, mode)
                set_attributes(path, mode, uid, gid)
    for path, data, mode, command in sorted(files, key=lambda entry: entry[3] is not None):
        # A link in a file's place is replaced, never followed (its target is not ours to chmod).
        if os.path.islink(path) or read_bytes(path) != data:
            if command is not None and validate is None:
                deferred.append(path)
                continue
            changed.append(path)
            if not check_mode:
                if command is not None:
                    check_candidate(path, data, command, validate)
                write_atomic(path, data, mode, uid, gid)
        elif attributes_differ(path, mode, uid, gid):
            changed.append(path)
            if not check_mode:
                set_attributes(path, mode, uid, gid)
    wanted = {path for path, _data, _mode, _command in files}
    strays = [os.path.join(directory, name) for directory in exclusive if os.path.isdir(directory)
              for name in sorted(os.listdir(directory))
              if os.path.join(directory, name) not in wanted and not os.path.isdir(os.path.join(directory, name))]
    changed.extend(remove_all([*absent, *strays], check_mode))
    return changed, deferred


def check_candidate(path, data, command, validate):
    """Run validate on a private temporary copy of data; FileError with its output when it fails."""
    scratch = tempfile.mkdtemp(prefix="mtls-candidate.")
    try:
        candidate = os.path.join(scratch, os.path.basename(path))
        with open(candidate, "wb") as handle:
            handle.write(data)
        rc, out, err = validate(command.replace("%s", candidate))
    finally:
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        os.rmdir(scratch)
    if rc != 0:
        raise FileError(f"{path} was not installed: {command.replace('%s', candidate)} failed (rc={rc}): "
                        f"{(err or out).strip()}")


def pid_running(pid_file, name):
    """True when pid_file names a live process whose executable's name contains name."""
    try:
        with open(pid_file, encoding="ascii") as handle:
            pid = int(handle.read().strip())
        return name in os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except (OSError, ValueError):
        return False
