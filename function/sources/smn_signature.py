"""SMN's HTTP(S) message signatures, checked without a crypto library (pure).

SMN signs every message it POSTs to an HTTP(S) subscription, as AWS SNS does
(docs/smn.md cites both): the string to sign is the message's fields for its
``type``, in alphabetical order, each name on a line and its value on the next
(every line ends with a newline); the signature is RSA (PKCS #1 v1.5) with the
hash of the signing certificate's own signature algorithm (Huawei's sample code
calls ``Signature.getInstance(cert.getSigAlgName())``), base64 encoded. The
certificate is an X.509 certificate downloaded from ``signing_cert_url``.

Verifying needs the certificate's RSA key, its validity and its algorithm: a small
DER reader does it here, so the deployed function needs no ``cryptography``
(a 10 MB native wheel) for one modular exponentiation.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

NOTIFICATION = "Notification"
CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE = "UnsubscribeConfirmation"
SIGNED_FIELDS = {
    NOTIFICATION: ("message", "message_id", "subject", "timestamp", "topic_urn", "type"),
    CONFIRMATION: ("message", "message_id", "subscribe_url", "timestamp", "topic_urn", "type"),
    UNSUBSCRIBE: ("message", "message_id", "subscribe_url", "timestamp", "topic_urn", "type"),
}
"""Per message type (SMN's "Signature Strings for Different Message Types")."""

_SHA_WITH_RSA = {  # signatureAlgorithm OID (DER content) → hash name, DigestInfo prefix
    bytes.fromhex("2a864886f70d010105"): ("sha1", "3021300906052b0e03021a05000414"),
    bytes.fromhex("2a864886f70d01010b"): ("sha256", "3031300d060960864801650304020105000420"),
    bytes.fromhex("2a864886f70d01010c"): ("sha384", "3041300d060960864801650304020205000430"),
    bytes.fromhex("2a864886f70d01010d"): ("sha512", "3051300d060960864801650304020305000440"),
}
_RSA_KEY = bytes.fromhex("2a864886f70d010101")


class BadSignature(ValueError):
    """The message, its signature or its certificate does not hold up."""


def string_to_sign(message: Mapping[str, object]) -> bytes:
    """The bytes SMN signed for ``message`` (a Notification's empty subject is left out)."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
        raise BadSignature(f"unknown SMN message type {kind!r}")
    lines = []
    for name in SIGNED_FIELDS[kind]:
        value = message.get(name)
        if name == "subject" and not value:
            continue
        if not isinstance(value, str):
            raise BadSignature(f"SMN message without {name!r}")
        lines += [name, value]
    return "".join(f"{line}\n" for line in lines).encode()


@dataclass(frozen=True)
class SigningKey:
    """What verifying needs of a signing certificate."""

    modulus: int
    exponent: int
    hash_name: str
    digest_info: bytes
    not_before: float
    not_after: float

    def verify(self, data: bytes, signature_b64: str, now: float) -> None:
        """Raise ``BadSignature`` unless ``signature_b64`` is this key's over ``data``."""
        if not self.not_before <= now <= self.not_after:
            raise BadSignature("the signing certificate is not valid now")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            raise BadSignature("the signature is not base64") from None
        size = (self.modulus.bit_length() + 7) // 8
        number = int.from_bytes(signature, "big")
        if len(signature) != size or number >= self.modulus:
            raise BadSignature("the signature does not fit the key")
        encoded = pow(number, self.exponent, self.modulus).to_bytes(size, "big")
        digest = self.digest_info + hashlib.new(self.hash_name, data).digest()
        expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
        if size - len(digest) - 3 < 8 or not hmac.compare_digest(encoded, expected):
            raise BadSignature("the signature does not match the message")


def signing_key(pem: bytes) -> SigningKey:
    """The RSA key, hash and validity of a PEM X.509 certificate."""
    try:
        text = pem.decode("ascii")
        body = text.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE", 1)[0]
        der = base64.b64decode("".join(body.split()), validate=True)
        return _read_certificate(der)
    except (IndexError, UnicodeDecodeError, binascii.Error, ValueError) as exc:
        raise BadSignature(f"not a usable signing certificate ({exc})") from None


def _read_certificate(der: bytes) -> SigningKey:
    certificate = _children(_only(der, 0x30))
    tbs, algorithm = _children(certificate[0][1]), _children(certificate[1][1])
    if algorithm[0][0] != 0x06 or algorithm[0][1] not in _SHA_WITH_RSA:
        raise ValueError("signature algorithm is not SHA-x with RSA")
    hash_name, prefix = _SHA_WITH_RSA[algorithm[0][1]]
    fields = tbs[1:] if tbs[0][0] == 0xA0 else tbs  # [0] version is optional
    validity, key_info = _children(fields[3][1]), _children(fields[5][1])
    if _children(key_info[0][1])[0][1] != _RSA_KEY or key_info[1][0] != 0x03:
        raise ValueError("the key is not RSA")
    modulus, exponent = (
        int.from_bytes(v, "big") for _, v in _children(_only(key_info[1][1][1:], 0x30))
    )
    return SigningKey(
        modulus,
        exponent,
        hash_name,
        bytes.fromhex(prefix),
        _time(*validity[0]),
        _time(*validity[1]),
    )


def _time(tag: int, value: bytes) -> float:
    text = value.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    return float(calendar.timegm(time.strptime(text, "%Y%m%d%H%M%SZ")))


def _only(der: bytes, tag: int) -> bytes:
    [(found, value)] = _children(der)
    if found != tag:
        raise ValueError(f"expected DER tag {tag:#x}, found {found:#x}")
    return value


def _children(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) items of a DER sequence's content."""
    items, i = [], 0
    while i < len(der):
        tag, length = der[i], der[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4:
                raise ValueError("bad DER length")
            length = int.from_bytes(der[i : i + count], "big")
            i += count
        if i + length > len(der):
            raise ValueError("truncated DER")
        items.append((tag, der[i : i + length]))
        i += length
    return items
