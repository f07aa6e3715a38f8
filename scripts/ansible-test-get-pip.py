"""Stand-in for ansible-test's pip bootstrap script (see scripts/check-package.sh).

Installs the pip bundled with Python, then `pip install ARGS` from the package index.
ansible-test runs pip with PIP_CONFIG_FILE=/dev/null, so the machine's CA bundle is passed
through a sitecustomize in the new environment.
"""
import ensurepip
import os
import subprocess
import sys
import sysconfig

CERT = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"

if __name__ == "__main__":
    ensurepip.bootstrap(upgrade=True)
    if os.path.exists(CERT):
        with open(os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"), "w", encoding="utf-8") as handle:
            handle.write(f"import os\nos.environ.setdefault('PIP_CERT', {CERT!r})\n")
        os.environ.setdefault("PIP_CERT", CERT)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args]))
