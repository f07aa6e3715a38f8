"""Behaviour, from the control node: real HTTPS requests with and without certificates."""
import datetime

import pytest
from conftest import client_files, h2_get, http_get, https_get, mint, new_key, utcnow, write_pair

DAY = datetime.timedelta(days=1)


def test_no_certificate_gets_the_496_page(port):
    response = https_get(port)
    assert response.status == 496, response
    assert "A client certificate is required" in response.body


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_listed_user_gets_200(port, pki, name):
    response = https_get(port, *client_files(pki, name))
    assert response.status == 200, response
    assert "Your client certificate was verified" in response.body
    assert f"CN={'Alice Example' if name == 'alice' else name}" in response.body


def test_certificate_from_another_ca_with_the_same_name_gets_the_495_page(port, our_ca, scratch):
    impostor_key = new_key()
    cert, key = mint(our_ca[0].subject, impostor_key)
    response = https_get(port, *write_pair(scratch, "impostor", cert, key))
    assert response.status == 495, response
    assert "Your client certificate was rejected" in response.body
    assert "FAILED:" in response.body


def test_expired_certificate_from_our_ca_is_rejected(port, our_ca, scratch):
    cert, key = mint(our_ca[0].subject, our_ca[1], not_before=utcnow() - 30 * DAY, not_after=utcnow() - DAY)
    response = https_get(port, *write_pair(scratch, "expired", cert, key))
    assert response.status == 495, response
    assert "certificate has expired" in response.body


def test_plain_http_to_the_tls_port_gets_the_497_page(port):
    response = http_get(port)
    assert response.status == 497, response
    assert "This port speaks HTTPS only" in response.body


def test_a_client_certificate_gets_http2_and_its_name(port, pki):
    version, status, body = h2_get(port, *client_files(pki, "alice"))
    assert (version, status) == ("2", 200)
    assert "Name: <code>alice</code>" in body  # the serial-to-name map works over HTTP/2
