import os
import stat

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _files as F

UID, GID = os.getuid(), os.getgid()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def tree(tmp_path):
    directories = [(str(tmp_path / "tls"), 0o755), (str(tmp_path / "www" / "errors"), 0o755)]
    files = [(str(tmp_path / "tls" / "ca.crt"), b"CA\n", 0o644, None), (str(tmp_path / "tls" / "server.key"), b"KEY\n", 0o600, None),
             (str(tmp_path / "www" / "errors" / "496.html"), b"<p>496</p>\n", 0o644, None)]
    return directories, files


def test_sync_creates_then_changes_nothing(tree):
    directories, files = tree
    predicted = F.sync(directories, files, UID, GID, check_mode=True)
    assert predicted == ([d for d, _m in directories] + [f for f, _d, _m, _c in files], [])
    assert not os.path.exists(directories[0][0])  # check mode wrote nothing
    assert F.sync(directories, files, UID, GID) == predicted
    for path, data, wanted, _command in files:
        with open(path, "rb") as handle:
            assert handle.read() == data
        assert mode(path) == wanted
    inodes = [os.stat(path).st_ino for path, _d, _m, _c in files]
    assert F.sync(directories, files, UID, GID) == ([], [])
    assert [os.stat(path).st_ino for path, _d, _m, _c in files] == inodes


@pytest.mark.parametrize("change, expected", [
    ("content", "ca.crt"),
    ("mode", "server.key"),
])
def test_sync_rewrites_only_what_differs(tree, change, expected):
    directories, files = tree
    F.sync(directories, files, UID, GID)
    if change == "content":
        with open(files[0][0], "wb") as handle:
            handle.write(b"tampered\n")
    else:
        os.chmod(files[1][0], 0o644)
    changed, _deferred = F.sync(directories, files, UID, GID)
    assert [os.path.basename(path) for path in changed] == [expected]
    assert F.sync(directories, files, UID, GID) == ([], [])
    assert mode(files[1][0]) == 0o600


def test_sync_leaves_an_existing_directory_as_it_is(tree):
    """A directory that exists is somebody's (a shared textfile directory, a sticky one): only one
    this call creates gets the mode and owner asked for."""
    directories, files = tree
    os.makedirs(directories[0][0], 0o700)
    os.chmod(directories[0][0], 0o1777)
    F.sync(directories, files, UID, GID)
    assert mode(directories[0][0]) == 0o1777 and mode(directories[1][0]) == 0o755
    assert F.sync(directories, files, UID, GID) == ([], [])


def test_sync_refuses_a_symlinked_directory_and_changes_nothing(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    (tmp_path / "textfile").symlink_to(shared)
    with pytest.raises(F.FileError, match=r"directories\[1\]: .*/textfile is a symbolic link"):
        F.sync([(str(tmp_path / "tls"), 0o755), (str(tmp_path / "textfile"), 0o755)],
               [(str(tmp_path / "textfile" / "m.prom"), b"x\n", 0o644, None)], UID, GID)
    assert mode(shared) == 0o1777 and os.listdir(shared) == [] and not (tmp_path / "tls").exists()


def test_sync_replaces_a_link_in_a_files_place_without_touching_its_target(tmp_path):
    target = tmp_path / "precious"
    target.write_bytes(b"x\n")
    os.chmod(target, 0o600)
    (tmp_path / "ca.crt").symlink_to(target)
    assert F.sync([], [(str(tmp_path / "ca.crt"), b"x\n", 0o644, None)], UID, GID)[0] == [str(tmp_path / "ca.crt")]
    assert not os.path.islink(tmp_path / "ca.crt") and mode(tmp_path / "ca.crt") == 0o644 and mode(target) == 0o600


@pytest.mark.parametrize("option", ["directories", "files", "absent"])
def test_sync_refuses_relative_paths(tmp_path, option):
    args = {"directories": [], "files": [], "absent": []}
    args[option] = [("etc/x", 0o755)] if option == "directories" else [("etc/x", b"", 0o644, None)] if option == "files" else ["etc/x"]
    with pytest.raises(F.FileError, match=rf"{option}\[0\]: etc/x must be an absolute path"):
        F.sync(args["directories"], args["files"], UID, GID, absent=args["absent"])


def accept_if(word):
    """A validator that accepts a candidate containing word; records the commands it ran."""
    ran = []

    def validate(command):
        ran.append(command)
        with open(command.split()[-1], "rb") as handle:
            return (0, "", "") if word in handle.read() else (1, "", "bad candidate")
    return validate, ran


@pytest.mark.parametrize("content, ready, check_mode, changed, deferred, written, validated", [
    (b"good conf", True, False, ["site.conf"], [], b"good conf", 1),
    (b"old conf", True, False, [], [], b"old conf", 0),  # unchanged: not validated again
    (b"good conf", False, False, [], ["site.conf"], b"old conf", 0),  # checker missing: deferred
    (b"good conf", True, True, ["site.conf"], [], b"old conf", 0),  # check mode validates nothing
])
def test_sync_validates_a_candidate_before_it_replaces_the_file(
        tmp_path, content, ready, check_mode, changed, deferred, written, validated):
    site = tmp_path / "site.conf"
    site.write_bytes(b"old conf")
    os.chmod(site, 0o644)
    validate, ran = accept_if(b"conf")
    result = F.sync([], [(str(site), content, 0o644, "check-site %s")], UID, GID, check_mode,
                    validate=validate if ready else None)
    assert ([os.path.basename(p) for p in result[0]], [os.path.basename(p) for p in result[1]]) == (changed, deferred)
    assert site.read_bytes() == written and len(ran) == validated


def test_sync_refuses_a_candidate_its_checker_rejects_and_writes_it_last(tmp_path):
    site, cert = tmp_path / "site.conf", tmp_path / "server.crt"
    site.write_bytes(b"good old conf")
    order = []

    def validate(command):
        order.append(cert.exists())  # the files the candidate names are in place before it is checked
        return 1, "", "nginx: [emerg] unknown directive"
    files = [(str(site), b"broken", 0o644, "check-site %s"), (str(cert), b"CERT", 0o644, None)]
    with pytest.raises(F.FileError, match="site.conf was not installed.*unknown directive"):
        F.sync([], files, UID, GID, validate=validate)
    assert site.read_bytes() == b"good old conf" and order == [True]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_sync_removes_absent_paths(tmp_path):
    link = tmp_path / "default"
    link.symlink_to(tmp_path / "nowhere")
    assert F.sync([], [], UID, GID, check_mode=True, absent=[str(link)]) == ([str(link)], [])
    assert os.path.lexists(link)
    assert F.sync([], [], UID, GID, absent=[str(link)]) == ([str(link)], [])
    assert not os.path.lexists(link)
    assert F.sync([], [], UID, GID, absent=[str(link)]) == ([], [])


def test_pid_running(tmp_path):
    pid_file = tmp_path / "app.pid"
    assert not F.pid_running(str(pid_file), "python")  # no pid file
    pid_file.write_text(f"{os.getpid()}\n")
    assert F.pid_running(str(pid_file), "python")
    assert not F.pid_running(str(pid_file), "nginx")  # a live pid of another program
    pid_file.write_text("not a pid")
    assert not F.pid_running(str(pid_file), "python")


def test_sync_empties_an_exclusive_directory_of_what_files_does_not_list(tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "old.crt").write_bytes(b"OLD")
    (sites / "keep").mkdir()  # a subdirectory is not ours to remove
    files = [(str(sites / "new.crt"), b"NEW", 0o644, None)]
    assert F.sync([(str(sites), 0o755)], files, UID, GID, check_mode=True, exclusive=[str(sites)]) == (
        [str(sites / "new.crt"), str(sites / "old.crt")], [])
    assert (sites / "old.crt").exists()
    F.sync([(str(sites), 0o755)], files, UID, GID, exclusive=[str(sites)])
    assert sorted(os.listdir(sites)) == ["keep", "new.crt"]
    assert F.sync([(str(sites), 0o755)], files, UID, GID, exclusive=[str(sites)]) == ([], [])
