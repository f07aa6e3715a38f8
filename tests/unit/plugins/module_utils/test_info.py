"""pki_info's table and the node_exporter metrics: pure functions over the report."""
import datetime

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _info

WHEN = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("subject, label", [
    ("CN=Users CA", 'ca="CN=Users CA"'),
    ('CN=Evil" } injected_metric 1 #', 'ca="CN=Evil\\" } injected_metric 1 #"'),
    ("CN=back\\slash", 'ca="CN=back\\\\slash"'),
    ("CN=two\nlines", 'ca="CN=two\\nlines"'),
])
def test_metrics_escape_label_values(subject, label):
    text = _info.metrics([(subject, WHEN, WHEN + datetime.timedelta(days=1))], ("web1.example.org", WHEN))
    assert f"mtls_client_ca_not_after_timestamp_seconds{{{label}}} {int(WHEN.timestamp())}\n" in text
    assert f"mtls_crl_next_update_timestamp_seconds{{{label}}} {int(WHEN.timestamp()) + 86400}\n" in text
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(samples) == 3 and all(line.count("{") == 1 for line in samples)  # one sample per line, nothing injected
    assert 'mtls_server_certificate_not_after_timestamp_seconds{server_name="web1.example.org"}' in text


def test_metrics_one_series_per_ca():
    text = _info.metrics([("CN=A", WHEN, WHEN), ("CN=B", WHEN, WHEN)], ("s", WHEN))
    assert text.count("mtls_client_ca_not_after_timestamp_seconds{") == 2
    assert text.count("# TYPE") == 3 and text.endswith("\n")


def test_table_lists_everything_and_what_ends():
    info = {"cas": [{"subject": "CN=A", "role": "current", "not_after": "2036-01-01T00:00:00+00:00", "days_left": 3000.0,
                     "crl_next_update": "2027-01-01T00:00:00+00:00", "crl_days_left": 2.5}],
            "clients": [{"name": "carol", "state": "revoked", "revoked_reason": "key_compromise", "ca_role": "current",
                         "ca": "CN=A", "not_after": "2027-06-01T00:00:00+00:00", "days_left": 150.0}],
            "servers": [], "within_days": 30, "crl_within_days": 3,
            "expiring": {"cas": [], "crls": ["CN=A"], "clients": [], "servers": []}}
    lines = _info.table(info)
    assert lines[0].split()[:2] == ["KIND", "NAME"]
    assert any(line.startswith("client") and "revoked (key_compromise)" in line for line in lines)
    assert lines[-1] == "Ending within 30 days (CRLs: 3): crls: CN=A"
