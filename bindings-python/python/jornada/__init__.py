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

import os
from typing import Any, Mapping, Optional, Sequence, Union

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
    "read_events",
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


def read_events(
    path: Union[str, "os.PathLike[str]"],
    *,
    format: Optional[str] = None,
    **columns: Any,
) -> EventLog:
    """Reads an event log from a file: Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) with
    pyarrow, JSON lines (``.jsonl``, ``.ndjson``) with the core's reader
    (`EventLog.from_json_lines`), by the name's suffix or ``format``
    (``"parquet"``, ``"csv"``, ``"jsonl"``). The keyword arguments name the columns, as in
    `EventLog.from_frame` (``customer=``, ``at=``, ``channel=``, ``kind=``, ``value=``,
    ``properties=``). The file's Arrow table goes to the core as it is (no per-row Python
    objects). A file that cannot be read raises `IoError`.

    >>> import jornada as jd, pyarrow as pa, pyarrow.csv, tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "events.csv")
    >>> pyarrow.csv.write_csv(pa.table({"user": ["u1", "u1"], "at": ["2026-03-01T10:00:00Z",
    ...     "2026-03-01T11:00:00Z"], "channel": ["web", "web"], "kind": ["view", "buy"]}), p)
    >>> log = jd.read_events(p, customer="user", value=None)
    >>> len(log), log.kinds
    (2, ['buy', 'view'])
    """
    name = os.fspath(path)
    fmt = format
    if fmt is None:
        lower = str(name).lower()
        for suffixes, f in (((".parquet", ".pq"), "parquet"), ((".csv",), "csv"), ((".jsonl", ".ndjson"), "jsonl")):
            if lower.endswith(suffixes):
                fmt = f
                break
    if fmt not in ("parquet", "csv", "jsonl"):
        raise InvalidValueError(
            f"cannot tell the format of {name!r}: name it .parquet, .csv or .jsonl, or pass format=",
            code="invalid_value",
            field="format",
        )
    if fmt == "jsonl":
        # The core's JSON-lines reader (the CLI's and Node's too): no pyarrow needed.
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError as e:
            raise IoError(f"cannot read {name!r}: {e}", code="io_error", field="path") from e
        props = columns.pop("properties", None)
        if isinstance(props, dict):
            if any(k != v for k, v in props.items()):
                raise InvalidValueError(
                    "JSON lines properties are read under their field names: pass a list of names",
                    code="invalid_value",
                    field="properties",
                )
            props = list(props)
        return EventLog.from_json_lines(data, properties=props, **columns)
    try:
        import pyarrow  # noqa: F401
    except ImportError as e:  # pragma: no cover - pyarrow is a test dependency
        raise ImportError("jornada.read_events needs pyarrow: pip install pyarrow") from e
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(name)
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(name)
        else:  # pragma: no cover - JSON lines are read above
            raise AssertionError(fmt)
    except OSError as e:
        raise IoError(f"cannot read {name!r}: {e}", code="io_error", field="path") from e
    except Exception as e:  # pyarrow.ArrowInvalid: not a table of this format
        raise InvalidValueError(f"cannot read {name!r} as {fmt}: {e}", code="invalid_value", field="path") from e
    return EventLog.from_frame(table, **columns)
