"""Conversions between jornada's tables and pandas, Polars and pyarrow.

Tables go out through the Arrow PyCapsule interface (``__arrow_c_stream__``), so pyarrow and
Polars read them without copying. pandas, Polars and pyarrow are optional: each conversion
imports its library when called and says how to install it when it is missing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Optional

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"this conversion needs {module}: pip install {extra} (or pip install 'jornada[{extra}]')"
        ) from None


def timedelta_from_ms(ms: int) -> _dt.timedelta:
    """A duration in milliseconds as a ``timedelta``.

    >>> timedelta_from_ms(5_400_000)
    datetime.timedelta(seconds=5400)
    """
    return _dt.timedelta(milliseconds=ms)


def datetime_from_ms(ms: int) -> _dt.datetime:
    """Epoch milliseconds as a tz-aware UTC datetime.

    >>> datetime_from_ms(1772359200000)
    datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.timezone.utc)

    jornada's times span the years 0000 to 9999; ``datetime`` starts at year 1, so the first year
    raises ``InvalidTimestampError`` (the records' ``at_ms`` still has it).
    """
    try:
        return _EPOCH + _dt.timedelta(milliseconds=ms)
    except OverflowError:
        from ._errors import InvalidTimestampError

        raise InvalidTimestampError(
            f"{ms} ms is before year 1, outside what datetime holds; use at_ms",
            code="invalid_timestamp",
        ) from None


def datetimes_from_ms(values: List[Optional[int]]) -> List[Optional[_dt.datetime]]:
    """A column of epoch milliseconds (``None`` for nulls) as UTC datetimes."""
    return [None if v is None else datetime_from_ms(v) for v in values]


def to_pyarrow(table: Any) -> Any:
    """A table as a ``pyarrow.Table`` (through ``__arrow_c_stream__``, no copy)."""
    pa = _need("pyarrow", "pyarrow")
    return pa.table(table)


def to_polars(table: Any) -> Any:
    """A table as a ``polars.DataFrame`` (through ``__arrow_c_stream__``, no copy)."""
    pl = _need("polars", "polars")
    return pl.DataFrame(table)


def to_pandas(table: Any) -> Any:
    """A table as a ``pandas.DataFrame`` (through pyarrow when it is installed)."""
    pd = _need("pandas", "pandas")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return pd.DataFrame(table.to_pydict())
    return to_pyarrow(table).to_pandas()


def table_to_pylist(table: Any) -> List[Dict[str, Any]]:
    """The rows of a table as dicts."""
    cols = table.to_pydict()
    names = list(cols)
    return [dict(zip(names, row)) for row in zip(*cols.values())] if names else []


def to_arrow_source(data: Any) -> Any:
    """An object the extension can read through the Arrow PyCapsule interface, or ``None``.

    pandas before 2.2 has no ``__arrow_c_stream__``: its DataFrames go through
    ``pyarrow.Table.from_pandas``.
    """
    module = type(data).__module__ or ""
    if module.startswith("pandas") and hasattr(data, "columns"):
        pa = _need("pyarrow", "pyarrow")
        return pa.Table.from_pandas(data, preserve_index=False)
    return None


def via_pyarrow(data: Any) -> Any:
    """``data`` read by pyarrow, or ``None`` (no pyarrow, or pyarrow cannot read it either).

    The extension calls this only when its own Arrow reader refuses a table: some producers
    export layouts pyarrow accepts and re-exports in the standard form (Polars writes a buffer
    for all-null columns).
    """
    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        return pa.table(data)
    except Exception:
        return None
