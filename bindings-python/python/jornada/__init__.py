"""jornada: an embeddable customer-journey engine (Rust core) for Python.

>>> import jornada as jd
>>> engine = jd.Engine(jd.Model.preset("ecommerce"))
>>> out = engine.ingest({"customer_id": "c1", "channel": "web", "kind": "product_view",
...                      "at": "2026-03-01T10:00:00Z"})
>>> out.transitions[1]
Transition(customer='c1', from_='visitor', to='browsing', at='2026-03-01T10:00:00Z', rule='started_browsing', channel='web')
>>> engine.customer("c1").stage
'browsing'

Everything is documented in ``bindings-python/README.md``.
"""

from __future__ import annotations

from ._errors import (
    CapacityExceededError,
    CorruptSnapshotError,
    ERROR_CLASSES,
    InvalidDurationError,
    InvalidJsonError,
    InvalidModelError,
    InvalidTimestampError,
    InvalidValueError,
    IoError,
    JornadaError,
    LateEventError,
    MissingFieldError,
    ModelMismatchError,
    MissingIdentityError,
    Problem,
    SnapshotVersionError,
    UnknownChannelError,
    UnknownCustomerError,
    UnknownEventKindError,
    UnknownFieldError,
    UnknownIdentityKindError,
    UnknownPresetError,
    WrongTypeError,
    error_class,
)
from ._jornada import (
    Action,
    ConsentEntry,
    CustomerView,
    Engine,
    Erasure,
    EventLog,
    Merge,
    Model,
    Outcome,
    Rejected,
    Replay,
    StageVisit,
    Table,
    Transition,
    __version__,
    error_codes,
    problem_codes,
    simulate,
)

__all__ = [
    "Action",
    "CapacityExceededError",
    "ConsentEntry",
    "CorruptSnapshotError",
    "CustomerView",
    "ERROR_CLASSES",
    "Engine",
    "Erasure",
    "EventLog",
    "InvalidDurationError",
    "InvalidJsonError",
    "InvalidModelError",
    "InvalidTimestampError",
    "InvalidValueError",
    "IoError",
    "JornadaError",
    "LateEventError",
    "Merge",
    "MissingFieldError",
    "ModelMismatchError",
    "MissingIdentityError",
    "Model",
    "Outcome",
    "Problem",
    "Rejected",
    "Replay",
    "SnapshotVersionError",
    "StageVisit",
    "Table",
    "Transition",
    "UnknownChannelError",
    "UnknownCustomerError",
    "UnknownEventKindError",
    "UnknownFieldError",
    "UnknownIdentityKindError",
    "UnknownPresetError",
    "WrongTypeError",
    "__version__",
    "error_class",
    "error_codes",
    "problem_codes",
    "simulate",
]
