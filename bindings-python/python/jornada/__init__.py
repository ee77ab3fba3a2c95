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

from typing import Any, Mapping, Optional, Sequence

from ._errors import (
    CapacityExceededError,
    CorruptSnapshotError,
    ModelMismatchError,
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
    _attribution_from_paths,
    error_codes,
    problem_codes,
    simulate,
)

__all__ = [
    "Action",
    "CapacityExceededError",
    "ConsentEntry",
    "CorruptSnapshotError",
    "ModelMismatchError",
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
    "attribution_from_paths",
    "error_class",
    "error_codes",
    "problem_codes",
    "simulate",
]


def attribution_from_paths(
    data: Any,
    *,
    path: str = "path",
    conversions: str = "total_conversions",
    value: Optional[str] = "total_conversion_value",
    nulls: Optional[str] = "total_null",
    sep: str = ">",
    models: Optional[Sequence[str]] = None,
) -> Table:
    """Attribution from aggregated paths (ChannelAttribution's format): a table (pandas, Polars,
    pyarrow or a dict of lists) with a `path` column of channel names joined by `sep` and its
    `conversions`, `value` and `nulls` counts (`value` and `nulls` optional: `None` or a missing
    column). Models as `EventLog.attribution` (time decay excluded: paths have no times). One
    row per model and channel: `model`, `channel`, `conversions`, `value`."""
    if isinstance(data, Mapping):
        cols: Mapping[str, Any] = data
    else:
        import pyarrow as pa

        t = pa.table(data)
        cols = {n: t.column(n).to_pylist() for n in t.column_names}

    def col(name: Optional[str], required: bool) -> Optional[list]:
        if name is None or (not required and name not in cols):
            return None
        return [float(x) for x in cols[name]]

    return _attribution_from_paths(
        [str(p) for p in cols[path]],
        col(conversions, True),
        col(value, False),
        col(nulls, False),
        sep=sep,
        models=None if models is None else list(models),
    )
