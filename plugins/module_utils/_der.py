# Private to the mtls.nginx collection: not a public API, may change without notice.
"""A minimal DER reader (standard library only): enough to name a bundle's algorithms on the control
node and a certificate's subject on a managed host, where cryptography may be missing."""
from __future__ import annotations


class DerError(ValueError):
    """The bytes are not the DER the caller expects."""


def element(data, pos):
    """(tag, value_start, value_end) of the DER element at pos."""
    if pos + 2 > len(data):
        raise DerError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise DerError("truncated DER")
    return tag, pos, pos + length


def children(data, start, end):
    """[(tag, value_start, value_end)] of the elements between start and end."""
    items, pos = [], start
    while pos < end:
        tag, value_start, value_end = element(data, pos)
        items.append((tag, value_start, value_end))
        pos = value_end
    return items
