"""The deployed TLS policy, as an independent scanner sees it: sslyze against Mozilla's profile."""
import json
import os
import subprocess

from conftest import PKI_DIR

TOOL = os.path.join(os.path.dirname(__file__), "tools", "sslyze_mozilla.py")


def test_sslyze_finds_the_server_compliant_with_mozilla_intermediate(port):
    python = os.environ.get("MTLS_SSLYZE_PYTHON")
    assert python, "MTLS_SSLYZE_PYTHON must name the Python of the sslyze environment (make molecule sets it)"
    result = subprocess.run([python, TOOL, "localhost", str(port), "intermediate",
                             os.path.join(PKI_DIR, "server", "ca.crt")],
                            capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Every criterion: protocols, ciphers, curves, certificate (trusted through the pki role's
    # server CA, given as sslyze's custom trust store), key, lifespan, vulnerabilities.
    assert report["issues"] == {}, report["issues"]
    assert report["custom_ca_validated"]
