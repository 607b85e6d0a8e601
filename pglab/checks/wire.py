"""Values crossing from the learner's kernel to the grader: JSON only, never pickle.

The grader must not unpickle anything a submission produced; results are turned into plain JSON
structures on the kernel side, and the grader compares those.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import re
import reprlib
import uuid
from collections.abc import Mapping, Sized
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


def describe(value: Any) -> str:
    """What a value is, in a few words a learner recognises: ``None``, ``a dict``, ``a tuple of 2 items``.

    Computed where the value lives (the learner's kernel): JSON turns a tuple into a list and a
    generator into a stand-in, so the grader could not tell what really came back.
    """
    if value is None:
        return "None"
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    if isinstance(value, (str, bytes)):
        return f"{article} {kind} ({reprlib.repr(value)})"
    if isinstance(value, (bool, int, float, decimal.Decimal)):
        return f"{article} {kind} ({value!r})"
    if isinstance(value, Sized) and not isinstance(value, type):
        try:
            size = len(value)
        except Exception:  # a learner's class whose __len__ raises
            return f"{article} {kind}"
        return f"{article} {kind} of {size} item{'' if size == 1 else 's'}"
    return f"{article} {kind}"


def promised_return(function: Any) -> str:
    """The return annotation of the learner's function (``list[Product]``), or ``""`` without one."""
    try:
        promised = getattr(function, "__annotations__", {}).get("return")
    except Exception:  # a learner's callable with a strange __annotations__
        return ""
    if promised is None:
        return ""
    if isinstance(promised, str):
        return promised
    if isinstance(promised, type):
        return promised.__qualname__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", str(promised))  # list[pglab.learner.catalogue.Product]: list[Product]


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value))
