"""TLS trust: always verified; ``NICATTACH_CA_BUNDLE`` adds a private CA to the default ones.

requests (and keystoneauth1) take one CA file that *replaces* the default
trust store, so the extra CA is appended to certifi's bundle in a file of
our own, once per process. There is deliberately no switch to turn
verification off.
"""

from __future__ import annotations

import functools
import tempfile

import certifi


@functools.lru_cache(maxsize=4)
def verify(ca_bundle: str | None) -> bool | str:
    """What to pass as ``verify=``: True, or a file with the default CAs plus ``ca_bundle``."""
    if not ca_bundle:
        return True
    with open(certifi.where(), "rb") as default, open(ca_bundle, "rb") as extra:
        pem = default.read() + b"\n" + extra.read()
    with tempfile.NamedTemporaryFile("wb", prefix="nicattach-ca-", delete=False) as out:
        out.write(pem)
    return out.name
