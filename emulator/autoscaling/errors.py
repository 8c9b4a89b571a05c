"""Auto Scaling's error body and the AS.* codes the emulator answers.

    {"error": {"code": "AS.7042", "message": "..."}}

From the AS API reference's error-code appendix (all HTTP 400). That a callback for an
instance that is no longer HANGING is answered AS.7042 is the likeliest reading, not
confirmed (docs/research-huawei.md §2). The codes for a bad hook name, type, timeout
or default result (AS.7030–7033) are in the appendix; which is which is assumed.
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import FakeApiError

GROUP_NOT_FOUND = "AS.2007"
BAD_TIMEOUT = "AS.7030"
BAD_HOOK_NAME = "AS.7031"
BAD_HOOK_TYPE = "AS.7032"
BAD_DEFAULT_RESULT = "AS.7033"
BAD_ACTION_RESULT = "AS.7034"
TOO_MANY_HOOKS = "AS.7038"
EMPTY_ACTION_RESULT = "AS.7039"
EMPTY_CALLBACK_OBJECT = "AS.7040"
NO_CALLBACK_OBJECT = "AS.7042"
TOPIC_NOT_FOUND = "AS.7043"
INVALID_PARAMETER = "AS.0005"
SYSTEM_ERROR = "AS.0001"


class AsError(FakeApiError):
    """An answer in Auto Scaling's shape."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}
