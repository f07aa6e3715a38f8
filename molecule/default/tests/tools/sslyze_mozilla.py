"""Scan HOST:PORT with sslyze and check it against Mozilla's TLS configuration PROFILE.

Run with the Python of the sslyze environment (Makefile: .venv-sslyze; sslyze pins its own
cryptography). Prints JSON: {"issues": {criterion: message}, "custom_ca_validated": bool}.
Usage: sslyze_mozilla.py HOST PORT PROFILE CA_FILE
"""
import json
import sys
from pathlib import Path

from sslyze import (CertificateInfoExtraArgument, Scanner, ScanCommandsExtraArguments, ServerNetworkLocation,
                    ServerScanRequest)
from sslyze.mozilla_tls_profile.tls_config_checker import (SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
                                                           MozillaTlsConfiguration, ServerNotCompliantWithTlsConfiguration,
                                                           TlsConfigurationEnum, check_server_against_tls_configuration)


def main(host, port, profile, ca_file):
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=host, port=int(port), ip_address="127.0.0.1"),
        scan_commands=SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_file))),
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    result = next(iter(scanner.get_results()))
    issues = {}
    try:
        check_server_against_tls_configuration(result, MozillaTlsConfiguration.get(TlsConfigurationEnum(profile)))
    except ServerNotCompliantWithTlsConfiguration as exc:
        issues = exc.issues
    deployments = result.scan_result.certificate_info.result.certificate_deployments
    custom = [validation.was_validation_successful for deployment in deployments
              for validation in deployment.path_validation_results
              if validation.trust_store.path == Path(ca_file)]
    print(json.dumps({"issues": issues, "custom_ca_validated": bool(custom) and all(custom)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
