# Private to the mtls.nginx collection: not a public API, may change without notice.
"""A distinguished name as nginx prints it in $ssl_client_s_dn and $ssl_client_i_dn.

nginx writes those with OpenSSL's X509_NAME_print_ex(..., XN_FLAG_RFC2253): the RDNs last to
first, "," between them and "+" inside one, OpenSSL's short attribute names, and values with
, + " \\ < > ; and a leading # or space (and a trailing space) escaped by a backslash, control
characters and every byte of a non-ASCII character's UTF-8 as \\XX. cryptography's
rfc4514_string() differs (non-ASCII is kept, emailAddress is an OID), so the servers' maps,
which match certificates by issuer and serial, take the issuer from here.
"""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

try:
    from cryptography.x509.oid import NameOID
except ImportError:  # reported by the plugins that need it (see _x509.CRYPTOGRAPHY_IMPORT_ERROR)
    NameOID = None

# OpenSSL's short names (OBJ_nid2sn) of the attributes a CA's name is made of.
SHORT_NAMES = {} if NameOID is None else {
    NameOID.COMMON_NAME: "CN", NameOID.COUNTRY_NAME: "C", NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.STREET_ADDRESS: "street", NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.SERIAL_NUMBER: "serialNumber", NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN", NameOID.TITLE: "title", NameOID.GENERATION_QUALIFIER: "generationQualifier",
    NameOID.X500_UNIQUE_IDENTIFIER: "x500UniqueIdentifier", NameOID.DN_QUALIFIER: "dnQualifier",
    NameOID.PSEUDONYM: "pseudonym", NameOID.USER_ID: "UID", NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.EMAIL_ADDRESS: "emailAddress", NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.JURISDICTION_LOCALITY_NAME: "jurisdictionL", NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionST",
    NameOID.BUSINESS_CATEGORY: "businessCategory", NameOID.POSTAL_CODE: "postalCode",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier", NameOID.INITIALS: "initials",
}
ESCAPED = frozenset(',+"\\<>;')


def nginx_dn(name):
    """The cryptography Name as nginx's $ssl_client_i_dn / $ssl_client_s_dn print it."""
    rdns = []
    for rdn in reversed(list(name.rdns)):
        values = []
        for attribute in reversed(list(rdn)):
            short = SHORT_NAMES.get(attribute.oid)
            if short is None or not isinstance(attribute.value, str):
                raise MtlsError(f"the name {name.rfc4514_string()} has an attribute ({attribute.oid.dotted_string}) whose"
                                " form in nginx's $ssl_client_i_dn is not known here: the servers could not match its"
                                " certificates. Use a CA whose name has only common attributes (CN, O, OU, C, L, ST, DC, ...)")
            values.append(f"{short}={escape_value(attribute.value)}")
        rdns.append("+".join(values))
    return ",".join(rdns)


def escape_value(value):
    """One attribute value as OpenSSL's RFC 2253 flags print it."""
    out = []
    for index, char in enumerate(value):
        for byte in char.encode("utf-8"):
            if byte > 0x7E or byte < 0x20:
                out.append(f"\\{byte:02X}")
            elif chr(byte) in ESCAPED or (chr(byte) == "#" and index == 0) or (
                    chr(byte) == " " and index in (0, len(value) - 1)):
                out.append("\\" + chr(byte))
            else:
                out.append(chr(byte))
    return "".join(out)


def map_pattern(dn):
    """A map key that matches exactly this name (as nginx_dn prints it), quoted for nginx's parser.

    A regular expression, not a hashed key: names are longer than map_hash_bucket_size (64) allows,
    and a team's own configuration may set that directive (it may be set only once). Every character
    but letters and digits is escaped, and nginx's parser turns \\\\ and \\" back into \\ and ".
    """
    pattern = "".join(char if char.isascii() and char.isalnum() else "\\" + char for char in dn)
    return '"~^' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '$"'
