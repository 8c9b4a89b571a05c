"""Validation of the attach body, reproducing Nova's JSON-Schema answers word for word.

Nova validates ``POST os-interface`` against a JSON Schema and turns the first
error into ``Invalid input for field/attribute <last path item>. Value: <value>.
<jsonschema message>`` (or the bare message at the root). The checks below run
in the order jsonschema would meet them. The controller's own checks (both ids,
an IP without a network) come later, after the server lookup, in the backend.
"""

from __future__ import annotations

import uuid
from typing import Any

from emulator.compute.records import AttachRequest
from emulator.compute.versions import Microversion
from emulator.core.errors import BadRequest
from emulator.network.ipam import parse_ip

TAG_VERSION: Microversion = (2, 49)
TAG_MAX_LENGTH = 60
_ATTACHMENT_KEYS = ("net_id", "port_id", "fixed_ips")


def _invalid(field: str | int, value: object, message: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {message}")


def _additional(keys: list[str]) -> str:
    quoted = ", ".join(repr(key) for key in keys)
    verb = "was" if len(keys) == 1 else "were"
    return f"Additional properties are not allowed ({quoted} {verb} unexpected)"


def is_uuid_like(value: str) -> bool:
    """oslo.utils' test: anything ``uuid.UUID`` reads back to the same hex digits."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    plain = value.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    return parsed.hex == plain.lower()


def _check_uuid(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _invalid(field, value, f"{value!r} is not of type 'string'")
    if not is_uuid_like(value):
        raise _invalid(field, value, f"{value!r} is not a 'uuid'")
    return value


def _check_ip(value: object) -> str:
    if not isinstance(value, str):
        raise _invalid("ip_address", value, f"{value!r} is not of type 'string'")
    if parse_ip(value) is None:
        message = f"{value!r} is not valid under any of the given schemas"
        raise _invalid("ip_address", value, message)
    return value


def _check_fixed_ip_item(index: int, item: object) -> str:
    if not isinstance(item, dict):
        raise _invalid(index, item, f"{item!r} is not of type 'object'")
    if "ip_address" in item:
        ip = _check_ip(item["ip_address"])
    else:
        raise _invalid(index, item, "'ip_address' is a required property")
    extra = [key for key in item if key != "ip_address"]
    if extra:
        raise _invalid(index, item, _additional(extra))
    return ip


def _check_fixed_ips(value: object) -> str:
    if not isinstance(value, list):
        raise _invalid("fixed_ips", value, f"{value!r} is not of type 'array'")
    if not value:
        raise _invalid("fixed_ips", value, "[] should be non-empty")
    if len(value) > 1:
        raise _invalid("fixed_ips", value, f"{value!r} is too long")
    return _check_fixed_ip_item(0, value[0])


def _check_tag(value: object) -> str:
    if not isinstance(value, str):
        raise _invalid("tag", value, f"{value!r} is not of type 'string'")
    if len(value) > TAG_MAX_LENGTH:
        raise _invalid("tag", value, f"{value!r} is too long")
    if "," in value or "/" in value:
        raise _invalid("tag", value, f"{value!r} does not match '^[^,/]*$'")
    return value


def _check_attachment(attachment: object, version: Microversion) -> AttachRequest:
    if not isinstance(attachment, dict):
        message = f"{attachment!r} is not of type 'object'"
        raise _invalid("interfaceAttachment", attachment, message)
    allowed = _ATTACHMENT_KEYS + (("tag",) if version >= TAG_VERSION else ())
    fields: dict[str, Any] = {}
    if "net_id" in attachment:
        fields["net_id"] = _check_uuid("net_id", attachment["net_id"])
    if "port_id" in attachment:
        fields["port_id"] = _check_uuid("port_id", attachment["port_id"])
    if "fixed_ips" in attachment:
        fields["ip_address"] = _check_fixed_ips(attachment["fixed_ips"])
    if "tag" in allowed and "tag" in attachment:
        fields["tag"] = _check_tag(attachment["tag"])
    extra = [key for key in attachment if key not in allowed]
    if extra:
        raise _invalid("interfaceAttachment", attachment, _additional(extra))
    return AttachRequest(**fields)


def parse_attach_body(body: object, version: Microversion) -> AttachRequest:
    """The attach request in ``body`` (already JSON-decoded; None when absent)."""
    if not isinstance(body, dict):
        raise BadRequest(f"{body!r} is not of type 'object'")
    request = AttachRequest()
    if "interfaceAttachment" in body:
        request = _check_attachment(body["interfaceAttachment"], version)
    extra = [key for key in body if key != "interfaceAttachment"]
    if extra:
        raise BadRequest(_additional(extra))
    return request
