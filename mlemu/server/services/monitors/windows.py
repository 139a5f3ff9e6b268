"""Time windows of a monitor's granularities: ``"5 minutes"`` ... ``"1 year"``.

Fixed-length windows are aligned to the Unix epoch, as Spark's ``window()`` aligns them (so
``1 week`` windows start on Thursdays); ``1 month`` and ``1 year`` follow the calendar.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The granularities the API accepts, with their fixed length (None: calendar based).
GRANULARITIES: dict[str, str | None] = {
    "5 minutes": "5min", "30 minutes": "30min", "1 hour": "1h", "1 day": "1D",
    "1 week": "7D", "2 weeks": "14D", "3 weeks": "21D", "4 weeks": "28D",
    "1 month": None, "1 year": None,
}


def timestamps(values: "pd.Series") -> "pd.Series":
    """A timestamp column as naive UTC datetimes; numbers are seconds since the epoch (what
    Spark's ``to_timestamp`` makes of them)."""
    import pandas as pd
    from pandas.api import types as pt

    if pt.is_numeric_dtype(values) and not pt.is_bool_dtype(values):
        out = pd.to_datetime(values, unit="s", utc=True)
    else:
        out = pd.to_datetime(values, utc=True)
    return out.dt.tz_convert(None)


def starts(ts: "pd.Series", granularity: str) -> "pd.Series":
    """The start of the window holding each timestamp."""
    fixed = GRANULARITIES[granularity]
    if fixed is not None:
        return ts.dt.floor(fixed)
    return ts.dt.to_period("M" if granularity == "1 month" else "Y").dt.start_time


def end_of(start: "pd.Timestamp", granularity: str) -> "pd.Timestamp":
    import pandas as pd

    fixed = GRANULARITIES[granularity]
    if fixed is not None:
        return start + pd.Timedelta(fixed)
    return start + (pd.DateOffset(months=1) if granularity == "1 month" else pd.DateOffset(years=1))
