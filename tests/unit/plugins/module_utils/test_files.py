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
    files = [(str(tmp_path / "tls" / "ca.crt"), b"CA\n", 0o644), (str(tmp_path / "tls" / "server.key"), b"KEY\n", 0o600),
             (str(tmp_path / "www" / "errors" / "496.html"), b"<p>496</p>\n", 0o644)]
    return directories, files


def test_sync_creates_then_changes_nothing(tree):
    directories, files = tree
    predicted = F.sync(directories, files, UID, GID, check_mode=True)
    assert predicted == [d for d, _m in directories] + [f for f, _d, _m in files]
    assert not os.path.exists(directories[0][0])  # check mode wrote nothing
    assert F.sync(directories, files, UID, GID) == predicted
    for path, data, wanted in files:
        with open(path, "rb") as handle:
            assert handle.read() == data
        assert mode(path) == wanted
    inodes = [os.stat(path).st_ino for path, _d, _m in files]
    assert F.sync(directories, files, UID, GID) == []
    assert [os.stat(path).st_ino for path, _d, _m in files] == inodes


@pytest.mark.parametrize("change, expected", [
    ("content", "ca.crt"),
    ("mode", "server.key"),
    ("directory mode", "tls"),
])
def test_sync_rewrites_only_what_differs(tree, change, expected):
    directories, files = tree
    F.sync(directories, files, UID, GID)
    if change == "content":
        with open(files[0][0], "wb") as handle:
            handle.write(b"tampered\n")
    elif change == "mode":
        os.chmod(files[1][0], 0o644)
    else:
        os.chmod(directories[0][0], 0o700)
    changed = F.sync(directories, files, UID, GID)
    assert [os.path.basename(path) for path in changed] == [expected]
    assert F.sync(directories, files, UID, GID) == []
    assert mode(files[1][0]) == 0o600
