"""check-site: nginx -t on a candidate in a copy of the host's configuration, which (holding the
server's private key) must not outlive the check, whether nginx accepts the candidate or not."""
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 3))
CHECK_SITE = os.path.join(ROOT, "roles", "server", "files", "check-site")


@pytest.fixture
def host(tmp_path):
    """A configuration directory with a private key, a fake nginx that accepts or refuses, a TMPDIR."""
    conf = tmp_path / "etc-nginx"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "mtls").mkdir()
    (conf / "nginx.conf").write_text(f"http {{ include {conf}/conf.d/*.conf; }}\n")
    (conf / "mtls" / "server.key").write_text("PRIVATE KEY\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nginx = bin_dir / "nginx"
    # Accepts a configuration whose files (or the candidate it includes) say "good"; records the
    # main file it was given.
    nginx.write_text('#!/bin/sh\necho "$4" >> "$(dirname "$0")/ran"\ngrep -rq good "$(dirname "$4")" ||'
                     ' grep -q good $(sed -n "s/.*include \\(.*candidate.conf\\);/\\1/p" "$4")\n')
    nginx.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(scratch),
           "MTLS_NGINX_CONF_DIR": str(conf)}
    return conf, scratch, env, bin_dir / "ran"


@pytest.mark.parametrize("content, accepted", [(b"good server {}\n", True), (b"bad server {}\n", False)])
@pytest.mark.parametrize("in_place", [True, False], ids=["in the host's configuration", "alone"])
def test_the_copy_is_gone_after_the_check(host, tmp_path, content, accepted, in_place):
    conf, scratch, env, ran = host
    candidate = tmp_path / "candidate.conf"
    candidate.write_bytes(content)
    args = [str(candidate)] + ([str(conf / "conf.d" / "mtls-nginx.conf")] if in_place else [])
    result = subprocess.run(["sh", CHECK_SITE, *args], env=env, capture_output=True, text=True, check=False)
    assert (result.returncode == 0) is accepted, result.stderr
    assert ran.read_text().startswith(str(scratch))  # nginx -t ran on the copy in TMPDIR
    assert os.listdir(scratch) == []  # and nothing of it, key included, is left
    assert not (conf / "conf.d" / "mtls-nginx.conf").exists()  # the live configuration is untouched
