"""Exceptions: one class per core error code, all under :class:`JornadaError`.

>>> import jornada as jd
>>> try:
...     jd.Model.preset("nope")
... except jd.UnknownPresetError as e:
...     print(e.code)
unknown_preset
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Type


class Problem(NamedTuple):
    """One problem of an invalid model: its JSON path, problem code and message."""

    path: str
    code: str
    message: str


class JornadaError(Exception):
    """Base class of every jornada error.

    Attributes: ``code`` (the stable error code), ``field`` (the touchpoint field at fault,
    e.g. ``"at"`` or ``"properties.rating"``), ``index`` (position in a batch or row of a table),
    ``line`` (1-based line of JSON-lines input), ``path`` (the field path, or for an invalid
    model the first problem's JSON path) and ``problems`` (every problem of an invalid model).
    """

    code: str = "jornada_error"

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[str] = None,
        field: Optional[str] = None,
        index: Optional[int] = None,
        line: Optional[int] = None,
        path: Optional[str] = None,
        problems: Optional[List[Problem]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.index = index
        self.line = line
        self.path = path
        self.problems: List[Problem] = list(problems or [])


class InvalidModelError(JornadaError):
    """The model JSON does not parse or is inconsistent; ``problems`` lists every issue."""

    code = "invalid_model"


class UnknownPresetError(JornadaError):
    """No preset model has this name."""

    code = "unknown_preset"


class InvalidJsonError(JornadaError):
    """A touchpoint or snapshot is not valid JSON."""

    code = "invalid_json"


class MissingFieldError(JornadaError):
    """A required touchpoint field is missing (or a table lacks the column for it)."""

    code = "missing_field"


class UnknownFieldError(JornadaError):
    """A touchpoint field is neither a touchpoint field nor an identity kind of the model."""

    code = "unknown_field"


class WrongTypeError(JornadaError, TypeError):
    """A touchpoint field (or a table column) holds a value of the wrong type."""

    code = "wrong_type"


class InvalidValueError(JornadaError, ValueError):
    """A value is out of range or unusable (NaN, infinite, empty, too long)."""

    code = "invalid_value"


class InvalidTimestampError(JornadaError, ValueError):
    """A timestamp is neither RFC 3339 nor epoch milliseconds (or is out of range)."""

    code = "invalid_timestamp"


class InvalidDurationError(JornadaError, ValueError):
    """A duration does not parse."""

    code = "invalid_duration"


class UnknownChannelError(JornadaError):
    """The channel is not declared in the model."""

    code = "unknown_channel"


class UnknownEventKindError(JornadaError):
    """The event kind is not declared in the model."""

    code = "unknown_event_kind"


class UnknownIdentityKindError(JornadaError):
    """The identity kind is not declared in the model."""

    code = "unknown_identity_kind"


class MissingIdentityError(JornadaError):
    """The touchpoint names no identity key (or a table has no identity column)."""

    code = "missing_identity"


class LateEventError(JornadaError):
    """The touchpoint is older than its customer's latest event minus the allowed lateness."""

    code = "late_event"


class ModelMismatchError(JornadaError):
    """Saved state belongs to another model than the one given."""

    code = "model_mismatch"


class UnknownCustomerError(JornadaError):
    """No customer is known by this id."""

    code = "unknown_customer"


class SnapshotVersionError(JornadaError):
    """The snapshot was written by an unsupported format version."""

    code = "snapshot_version"


class CorruptSnapshotError(JornadaError):
    """The snapshot bytes are damaged or not a jornada snapshot."""

    code = "corrupt_snapshot"


class CapacityExceededError(JornadaError):
    """An internal limit was reached."""

    code = "capacity_exceeded"


class IoError(JornadaError, OSError):
    """A file could not be read (``Model.from_file``)."""

    code = "io_error"


ERROR_CLASSES: Dict[str, Type[JornadaError]] = {
    cls.code: cls
    for cls in (
        InvalidModelError,
        UnknownPresetError,
        InvalidJsonError,
        MissingFieldError,
        UnknownFieldError,
        WrongTypeError,
        InvalidValueError,
        InvalidTimestampError,
        InvalidDurationError,
        UnknownChannelError,
        UnknownEventKindError,
        UnknownIdentityKindError,
        MissingIdentityError,
        LateEventError,
        UnknownCustomerError,
        SnapshotVersionError,
        CorruptSnapshotError,
        ModelMismatchError,
        CapacityExceededError,
        IoError,
    )
}


def error_class(code: str) -> Type[JornadaError]:
    """The exception class of an error code (``JornadaError`` for a code it does not know).

    >>> import jornada as jd
    >>> jd.error_class("late_event").__name__
    'LateEventError'
    """
    return ERROR_CLASSES.get(code, JornadaError)


def _make(
    message: str,
    *,
    code: str,
    field: Optional[str] = None,
    index: Optional[int] = None,
    line: Optional[int] = None,
    path: Optional[str] = None,
    problems: Optional[List[tuple]] = None,
) -> JornadaError:
    """Builds the exception for a core error (called by the extension module)."""
    cls = error_class(code)
    return cls(
        message,
        code=code,
        field=field,
        index=index,
        line=line,
        path=path,
        problems=[Problem(*p) for p in (problems or [])],
    )
