# Private to the mtls.nginx collection: not a public API, may change without notice.
"""A user's onboarding kit: the files besides the bundles that a person installs from.

Everything here is a pure function of the user's certificate, bundle and options, with no clock
and no randomness, so a rerun renders the same bytes and a file is only rewritten when what it
says changed. No passphrase ever reaches these files: the bundles carry the key, encrypted.
"""
from __future__ import annotations

import datetime
import hashlib
import html
import io
import plistlib
import uuid
import zipfile

from ansible_collections.mtls.nginx.plugins.module_utils._layout import TRUST_FILE
from ansible_collections.mtls.nginx.plugins.module_utils._keys import public_key_der
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    certificate_der,
    fingerprint_sha256,
    name_field,
    not_after,
    not_before,
    serial_hex,
)

PKCS12_PAYLOAD = "com.apple.security.pkcs12"
ROOT_PAYLOAD = "com.apple.security.root"
# A fixed timestamp keeps the zip byte-for-byte stable (the earliest date a zip can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def colon_hex(hex_digits):
    """'ab12…' -> 'AB:12:…', the way browsers and openssl print fingerprints."""
    upper = hex_digits.upper()
    return ":".join(upper[i:i + 2] for i in range(0, len(upper), 2))


def fingerprint(cert):
    return colon_hex(fingerprint_sha256(cert))


def profile_identifier(ca_cert, name):
    """Stable per CA and user: installing a newer profile replaces the old one on the device."""
    return f"mtls.nginx.{hashlib.sha256(public_key_der(ca_cert)).hexdigest()[:16]}.{name}"


def _uuid(identifier):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{identifier}")).upper()


def _payload(kind, identifier, display_name, content, file_name):
    return {
        "PayloadType": kind,
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": _uuid(identifier),
        "PayloadDisplayName": display_name,
        "PayloadContent": content,
        "PayloadCertificateFileName": file_name,
    }


def mobileconfig(name, bundle, bundle_file, ca_cert, trust=None, server_url=None):
    """An Apple configuration profile: the user's identity (a PKCS#12 bundle) and, when the
    server's certificate comes from a private CA, that CA as a trusted root.

    The bundle's passphrase is not in the profile (iOS and macOS ask for it when installing).
    """
    base = profile_identifier(ca_cert, name)
    ca_name = name_field(ca_cert.subject, "CN") or "mtls.nginx"
    payloads = [_payload(PKCS12_PAYLOAD, f"{base}.identity", f"Client certificate: {name}", bundle, bundle_file)]
    if trust is not None:
        payloads.append(_payload(ROOT_PAYLOAD, f"{base}.server-ca", "Server certificate authority",
                                 certificate_der(trust), TRUST_FILE))
    where = f" to {server_url}" if server_url else ""
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": base,
        "PayloadUUID": _uuid(base),
        "PayloadDisplayName": f"{ca_name}: {name}",
        "PayloadDescription": f"Installs the client certificate of {name} for connecting{where}."
                              " The certificate's passphrase is asked for during installation.",
        "PayloadRemovalDisallowed": False,
        "PayloadContent": payloads,
    }
    organization = name_field(ca_cert.subject, "O")
    if organization:
        profile["PayloadOrganization"] = organization
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def kit_zip(members):
    """A zip of (name, data) members, byte-for-byte the same for the same members.

    Stored, not deflated: bundles do not compress, and the bytes do not depend on the zlib version.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for member, data in members:
            info = zipfile.ZipInfo(member, ZIP_DATE)
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def bundle_chain(issuer):
    """The CA certificates a user's bundle carries: none for a self-signed CA (nginx has it, and a
    device could file it as a trusted root); an issuing CA under a root, as the chain certificate
    clients send."""
    return [] if issuer.issuer == issuer.subject else [issuer]


def readme_facts(name, cert, ca_cert, files, trust=None, server_url=None, own_key=False, previous_until=None):
    """What README.html shows, as plain values (readme_html escapes them).

    files: the kit's file names by option ("path", "compat_path", "mobileconfig_path",
    "certificate_path"). own_key: the user brought their own key (a CSR): no bundle in the kit.
    previous_until: when the certificate this one renewed (same key, still valid) ends, or None.
    """
    return {
        "name": name,
        "subject": cert.subject.rfc4514_string(),
        "serial": serial_hex(cert.serial_number),
        "fingerprint": fingerprint(cert),
        "not_before": not_before(cert).strftime("%Y-%m-%d %H:%M UTC"),
        "not_after": not_after(cert).strftime("%Y-%m-%d %H:%M UTC"),
        "issuer": ca_cert.subject.rfc4514_string(),
        "chained": bool(bundle_chain(ca_cert)),
        "server_url": server_url or "",
        "files": {key: files[key] for key in ("path", "compat_path", "mobileconfig_path", "certificate_path")},
        "trust_fingerprint": fingerprint(trust) if trust is not None else "",
        "own_key": own_key,
        "previous_until": (datetime.datetime.fromisoformat(previous_until).strftime("%Y-%m-%d %H:%M UTC")
                           if previous_until else ""),
    }


def readme_html(facts):
    """A one-page guide for the user: what they got, how to check it, how to install it."""
    f = {key: html.escape(value) if isinstance(value, str) else value for key, value in facts.items()}
    p12, compat, profile = (html.escape(facts["files"][key]) for key in ("path", "compat_path", "mobileconfig_path"))
    url = f["server_url"] or "https://your-server/"
    trust = bool(facts["trust_fingerprint"])
    cacert = f" --cacert {TRUST_FILE}" if trust else ""
    cafile = f" -CAfile {TRUST_FILE}" if trust else ""
    host = _host_port(facts["server_url"])
    if facts.get("own_key"):
        crt = html.escape(facts["files"]["certificate_path"])
        return _page(f, _own_key_sections(f, crt, url, trust, cacert, cafile, host))
    sections = [
        f"<h1>Client certificate for {f['name']}</h1>",
        f"<p>This kit lets you connect to <a href=\"{url}\">{url}</a>, which asks every visitor for a"
        " client certificate. Your passphrase reaches you separately: it is in none of these files."
        " You type it once, when you import the certificate.</p>",
        *_certificate_table(f),
        "<p>Before you import, check that the fingerprint your system shows is the one above.</p>",
        "<h2>Files</h2><ul>",
        f"<li><code>{p12}</code>: your certificate and key (AES-256), for current systems."
        + (" It also holds the authority that issued your certificate, which your system sends along with it;"
           " there is nothing to trust in it, and a system that asks may leave it out of its trusted authorities."
           if facts.get("chained") else "") + "</li>",
        f"<li><code>{compat}</code>: the same, in the older encryption (3DES) that macOS, iOS, Android"
        " and older Windows or Java read. Use it when a system says the password is wrong.</li>",
        f"<li><code>{profile}</code>: one-tap install on iPhone, iPad and Mac.</li>",
    ]
    if trust:
        sections.append(f"<li><code>{TRUST_FILE}</code>: the authority of the server's certificate. Install it only"
                        f" if your system warns that the site is not trusted; its SHA-256 fingerprint is"
                        f" <code>{f['trust_fingerprint']}</code>.</li>")
    sections += [
        "</ul>",
        "<h2>Install</h2>",
        "<h3>Chrome or Edge on Windows</h3><p>Double-click"
        f" <code>{p12}</code>, keep the store location <em>Current User</em>, enter the passphrase and let Windows"
        " choose the store. Restart the browser; it asks which certificate to use on the first visit.</p>",
        "<h3>Chrome on Linux</h3><p>Settings, Privacy and security, Security, Manage certificates,"
        f" Your certificates, Import: choose <code>{p12}</code>. Or in a terminal:"
        f" <code>pk12util -d sql:$HOME/.pki/nssdb -i {p12}</code></p>",
        "<h3>Firefox</h3><p>Settings, Privacy &amp; Security, Certificates, View Certificates,"
        f" Your Certificates, Import: choose <code>{p12}</code> and enter the passphrase.</p>",
        "<h3>Safari, iPhone, iPad and Mac</h3><p>Open <code>"
        f"{profile}</code> (AirDrop, Mail or Files). On iOS: Settings, Profile Downloaded, Install, then"
        " enter the passphrase. On a Mac: System Settings, Privacy &amp; Security, Profiles, Install."
        + (" The profile also installs the server's authority; on iOS enable it under Settings, General,"
           " About, Certificate Trust Settings." if trust else "") + "</p>",
        "<h3>Android</h3><p>Settings, Security, Encryption &amp; credentials, Install a certificate,"
        f" VPN &amp; app user certificate: choose <code>{compat}</code>."
        + (f" For the server's authority choose CA certificate and <code>{TRUST_FILE}</code>." if trust else "")
        + "</p>",
        "<h3>curl</h3><p><code>"
        f"curl --cert-type P12 --cert {p12}:PASSPHRASE{cacert} {url}</code></p>",
        "<h3>openssl</h3><p>Inspect the bundle: <code>openssl pkcs12 -in"
        f" {p12} -info -noout</code><br>Connect: <code>openssl s_client -connect {html.escape(host)}"
        f" -cert {p12} -pass pass:PASSPHRASE{cafile}</code></p>",
        "<h2>If it does not work</h2><ul>",
        "<li>The page says a client certificate is required (496): the browser sent none. Import the"
        " certificate, restart the browser and pick it when asked.</li>",
        "<li>The page says the certificate was not accepted (495): it expired or was revoked."
        " Ask for a new kit.</li>",
        "</ul>",
    ]
    return _page(f, sections)


def _certificate_table(f):
    renewal = (f"<p><strong>This kit renews your certificate.</strong> Install the new kit: the certificate you"
               f" have now keeps working until <code>{f['previous_until']}</code> and stops then.</p>"
               if f.get("previous_until") else "")
    return [f"<h2>Your certificate</h2>{renewal}<table>",
            *(f"<tr><th>{label}</th><td><code>{f[key]}</code></td></tr>" for label, key in (
                ("Subject", "subject"), ("Issued by", "issuer"), ("Serial number", "serial"),
                ("SHA-256 fingerprint", "fingerprint"), ("Valid from", "not_before"), ("Valid until", "not_after"))),
            "</table>"]


def _own_key_sections(f, crt, url, trust, cacert, cafile, host):
    """README.html for a user who brought their own key: put the certificate next to it."""
    sections = [
        f"<h1>Client certificate for {f['name']}</h1>",
        f"<p>This kit lets you connect to <a href=\"{url}\">{url}</a>, which asks every visitor for a client"
        " certificate. You made the key yourself and sent only a certificate request: the key never left your"
        " device, and this kit holds no key and no passphrase. Put the certificate next to your key.</p>",
        *_certificate_table(f),
        "<h2>Files</h2><ul>",
        f"<li><code>{crt}</code>: your certificate (PEM), for the key of your request.</li>",
    ]
    if trust:
        sections.append(f"<li><code>{TRUST_FILE}</code>: the authority of the server's certificate, if your system"
                        f" does not trust it; SHA-256 fingerprint <code>{f['trust_fingerprint']}</code>.</li>")
    sections += [
        "</ul>",
        "<h2>Use it</h2>",
        "<h3>A key in a file (curl, openssl)</h3><p><code>"
        f"curl --cert {crt} --key YOUR.key{cacert} {url}</code><br><code>openssl s_client -connect"
        f" {html.escape(host)} -cert {crt} -key YOUR.key{cafile}</code></p>",
        "<h3>A smart card or YubiKey (PIV, PKCS#11)</h3><p>Store the certificate on the token next to its key"
        f" (same id): <code>pkcs11-tool --login --write-object {crt} --type cert --id 01</code> (or"
        f" <code>ykman piv certificates import 9a {crt}</code> for a YubiKey's slot 9a). Then, with OpenSSL 3's"
        " pkcs11 provider: <code>curl --cert \"pkcs11:id=%01;type=cert\" --key \"pkcs11:id=%01;type=private\""
        f"{cacert} {url}</code>. Browsers use the token through its PKCS#11 module (Firefox: Settings, Security"
        " Devices, Load).</p>",
        "<h3>macOS keychain</h3><p>If your key is in the login keychain (made with Keychain Access's"
        f" Certificate Assistant): <code>security import {crt} -k ~/Library/Keychains/login.keychain-db</code>."
        " The keychain pairs certificate and key into an identity that Safari and Chrome offer.</p>",
        "<h3>Windows</h3><p>If your request came from <code>certreq</code> or the certificate manager,"
        f" <code>certreq -accept {crt}</code> pairs the certificate with its key in your store.</p>",
        "<h2>If it does not work</h2><ul>",
        "<li>496, a client certificate is required: no certificate was sent. Check that the certificate and"
        " the key belong together: <code>openssl x509 -in " + crt + " -noout -pubkey</code> and"
        " <code>openssl pkey -in YOUR.key -pubout</code> print the same.</li>",
        "<li>495, the certificate was not accepted: it expired or was revoked. Send a new request.</li>",
        "</ul>",
    ]
    return sections


def _page(f, sections):
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>Client certificate for {f['name']}</title>\n"
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.4}"
        "th{text-align:left;padding-right:1em;vertical-align:top}code{word-break:break-all}</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def _host_port(url):
    """host:port of an https URL, for openssl s_client."""
    if not url:
        return "your-server:443"
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    return rest if ":" in rest.rsplit("]", 1)[-1] else f"{rest}:443"
