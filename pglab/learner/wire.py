"""Values crossing from the learner's kernel to the grader: JSON only, never pickle.

The grader must not unpickle anything a submission produced; results are turned into plain JSON
structures on the kernel side, and the grader compares those.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid
from collections.abc import Mapping
from typing import Any


def to_jsonable(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return repr(value)[:200]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value else "NaN"
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (uuid.UUID, datetime.date, datetime.time, datetime.timedelta)):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **{k: to_jsonable(v, depth + 1) for k, v in fields.items()}}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v, depth + 1) for v in items]
    return {"__type__": type(value).__name__, "repr": repr(value)[:200]}


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value))
