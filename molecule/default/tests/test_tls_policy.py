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
                             os.path.join(PKI_DIR, "server", "localhost.crt")],
                            capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The demo's self-signed server certificate is in no public trust store; every other
    # criterion (protocols, ciphers, curves, key, lifespan, vulnerabilities) must pass.
    assert set(report["issues"]) <= {"certificate_path_validation"}, report["issues"]
