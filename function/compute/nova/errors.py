"""Nova's error bodies: a nested fault (``{"badRequest": {"code", "message"}}``, or a
flat ``{"message"}``), classified by HTTP status and message (``parsing.classify``)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from function.compute.parsing import TEMPORARY_CODES, classify, report_api_not_found
from function.transport.api import MAX_ERROR_TEXT, Fault, body_of, cut, raw_text
from function.transport.session import Response


def read_fault(response: Response, what: str) -> Fault:
    """The ``FaultReader`` of the Nova API (and of Huawei's ``/v2.1``)."""
    status = response.status_code
    detail = fault_message(response)
    code = classify(status, detail)  # the answer only: a route names servers and ports
    report_api_not_found(code, what, detail)
    return Fault(code, code in TEMPORARY_CODES, detail)


def fault_message(response: Response) -> str:
    """The message of a Nova (``{"badRequest": {...}}``) or Huawei (``{"error": {...}}``) fault."""
    body = body_of(response)
    if body is None:
        return raw_text(response)
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return cut(str(value["message"]))
        if "message" in body:
            return cut(str(body["message"]))
    return cut(json.dumps(body)[: MAX_ERROR_TEXT * 2])
