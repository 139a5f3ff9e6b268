"""Service state as data: the helpers each service's ``persist.py`` uses to turn its state
into JSON-ready values (dicts, lists, strings, numbers) and back, for exports and the
``--state-dir`` checkpoints (``mlemu/toolkit/persistence.py``, docs/persistence.md).

Nothing here decides a class from the data: each service names the types it rebuilds
(pydantic validates dataclasses against their declared fields), values of ``Any`` fields are
JSON plus a closed set of tagged scalars (:func:`encode_value`), and pandas frames use a
JSON table form that keeps dtypes exactly (:func:`encode_frame`). Data that does not fit
raises :class:`StateDataError` naming where and why, never a traceback from deep inside.

A service plugs in with a *persister*: any object (usually its ``persist`` module) with
``dump(state) -> data`` and ``load(ws, data) -> state`` (:class:`Persister`).
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import functools
import random
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Protocol, TypeVar

if TYPE_CHECKING:
    import pandas as pd

    from mlemu.server.core.workspace import WorkspaceState

T = TypeVar("T")


class StateDataError(ValueError):
    """Saved state that cannot be written or read back: ``where`` names the part, the
    message says why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class Persister(Protocol):
    """How one service's state becomes data and back (a service's ``persist`` module)."""

    def dump(self, state: Any) -> Any: ...

    def load(self, ws: "WorkspaceState", data: Any) -> Any: ...


# -- dataclasses, through pydantic ------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _adapter(tp: Any) -> Any:
    from pydantic import TypeAdapter
    return TypeAdapter(tp)


def dump_as(tp: Any, obj: Any) -> Any:
    """``obj`` (declared as ``tp``: a dataclass, ``list[...]``, ``dict[...]``) as JSON-ready data.
    Sets come out sorted, so the same state gives the same bytes whatever the hash seed."""
    return _sorted_sets(_adapter(tp).dump_python(obj, mode="python"), "")


def load_as(tp: Any, data: Any, where: str) -> Any:
    """Data validated against ``tp`` and built into it (only the classes ``tp`` declares)."""
    from pydantic import ValidationError
    try:
        return _adapter(tp).validate_python(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise StateDataError(f"{where}{'.' + loc if loc else ''}", first.get("msg", str(e))) from None
    except (RecursionError, TypeError, ValueError) as e:
        raise StateDataError(where, f"not a valid value ({type(e).__name__})") from None


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    import dataclasses
    import typing
    try:
        hints = typing.get_type_hints(cls)
    except NameError:  # an annotation names pandas, imported for type checking only
        import pandas
        hints = typing.get_type_hints(cls, localns={"pd": pandas})
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def dump_fields(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The init fields of a dataclass instance as data, each by its declared type (``Any``
    fields through :func:`encode_value`); ``exclude`` leaves out back-references."""
    out: dict[str, Any] = {}
    for name, hint in _hints(type(obj)).items():
        if name in exclude:
            continue
        value = getattr(obj, name)
        out[name] = encode_value(value, name) if hint is Any else dump_as(hint, value)
    return out


def load_fields(cls: type[T], data: Any, where: str, /, exclude: tuple[str, ...] = (), **given: Any) -> T:
    """An instance of the dataclass ``cls`` from :func:`dump_fields` data; ``given`` supplies
    the excluded fields. Unknown keys are refused; missing ones take the field's default."""
    require(data, dict, where)
    hints = _hints(cls)
    unknown = sorted(set(data) - set(hints) - set(exclude))
    if unknown:
        raise StateDataError(where, f"unknown field {unknown[0]!r}")
    kwargs = dict(given)
    for name, hint in hints.items():
        if name in exclude or name not in data:
            continue
        value = data[name]
        kwargs[name] = decode_value(value, f"{where}.{name}") if hint is Any else load_as(hint, value, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise StateDataError(where, f"incomplete ({e})") from None


def _sorted_sets(value: Any, where: str) -> Any:
    """The python-mode dump of pydantic, with tuples as lists, sets as sorted lists and
    ``bytes`` refused (services encode their bytes explicitly)."""
    if isinstance(value, dict):
        return {k: _sorted_sets(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sorted_sets(v, where) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_sorted_sets(v, where) for v in value)
    if isinstance(value, (bytes, bytearray)):
        raise StateDataError(where or "state", "bytes inside a dataclass are not saved; encode them explicitly")
    return value


def require(data: Any, kind: type, where: str) -> Any:
    """``data`` if it is a ``kind`` (dict, list...), else :class:`StateDataError`."""
    if not isinstance(data, kind):
        raise StateDataError(where, f"expected {kind.__name__}, got {type(data).__name__}")
    return data


def field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]`` checked to be a ``kind``."""
    if not isinstance(data, Mapping) or key not in data:
        raise StateDataError(where, f"missing {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateDataError(f"{where}.{key}", f"expected {getattr(kind, '__name__', kind)}, "
                             f"got {type(value).__name__}")
    return value


# -- bytes and PRNG state ---------------------------------------------------------------------
def encode_bytes(data: bytes | bytearray) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def decode_bytes(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise StateDataError(where, "expected base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise StateDataError(where, "not valid base64") from None


def encode_rng(rng: random.Random) -> list[Any]:
    """A PRNG's exact state (Mersenne Twister: version, 625 words, gauss_next)."""
    version, words, gauss = rng.getstate()
    return [version, list(words), gauss]


def decode_rng(data: Any, where: str) -> random.Random:
    try:
        version, words, gauss = data
        if not (isinstance(version, int) and isinstance(words, list) and len(words) == 625
                and all(isinstance(w, int) and not isinstance(w, bool) for w in words)
                and (gauss is None or isinstance(gauss, float))):
            raise ValueError
        rng = random.Random()
        rng.setstate((version, tuple(words), gauss))
        return rng
    except (TypeError, ValueError):
        raise StateDataError(where, "not a PRNG state ([version, 625 integers, gauss])") from None


# -- values of Any fields ---------------------------------------------------------------------
# JSON scalars, lists and string-keyed dicts stand for themselves; anything else is a
# one-key dict {"$tag": payload} from this closed list (a dict whose keys start with "$" is
# escaped as {"$dict": [[k, v], ...]}).
def encode_value(v: Any, where: str = "value") -> Any:
    """A Python value (SQL rows, object columns, proto-JSON...) as JSON-ready data."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if type(v) is int:
        return v
    if type(v) is float:
        return v
    if isinstance(v, list):
        return [encode_value(x, where) for x in v]
    if isinstance(v, dict):
        if all(type(k) is str and not k.startswith("$") for k in v):
            return {k: encode_value(x, where) for k, x in v.items()}
        return {"$dict": [[encode_value(k, where), encode_value(x, where)] for k, x in v.items()]}
    return _encode_special(v, where)


def _encode_special(v: Any, where: str) -> Any:  # noqa: C901 - one branch per tag
    import numpy as np
    import pandas as pd

    if isinstance(v, tuple):
        return {"$tuple": [encode_value(x, where) for x in v]}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes" if isinstance(v, bytes) else "$bytearray": encode_bytes(v)}
    if isinstance(v, (set, frozenset)):
        items = sorted((encode_value(x, where) for x in v), key=_sort_key)
        return {"$set" if isinstance(v, set) else "$frozenset": items}
    if v is pd.NA:
        return {"$NA": None}
    if v is pd.NaT:
        return {"$NaT": None}
    if isinstance(v, pd.Timestamp):
        return {"$timestamp": [int(v.value), v.unit, None if v.tz is None else str(v.tz)]}
    if isinstance(v, pd.Timedelta):
        return {"$timedelta64": [int(v.value), v.unit]}
    if isinstance(v, np.generic):
        if isinstance(v, (np.datetime64, np.timedelta64)):
            unit = np.datetime_data(v.dtype)[0]
            return {"$np": [v.dtype.str, int(v.view("i8")), unit]}
        return {"$np": [v.dtype.str, encode_value(v.item(), where)]}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "biufcUSO?":
            raise StateDataError(where, f"cannot save an array of dtype {v.dtype}")
        return {"$ndarray": [v.dtype.str, list(v.shape), [encode_value(x, where) for x in v.ravel().tolist()]]}
    if isinstance(v, dt.datetime):
        tz = v.utcoffset()
        return {"$datetime": [v.replace(tzinfo=None).isoformat(), None if tz is None else tz.total_seconds()]}
    if isinstance(v, dt.date):
        return {"$date": v.isoformat()}
    if isinstance(v, dt.time):
        return {"$time": v.isoformat()}
    if isinstance(v, dt.timedelta):
        return {"$timedelta": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, decimal.Decimal):
        return {"$decimal": str(v)}
    if isinstance(v, uuid.UUID):
        return {"$uuid": str(v)}
    if isinstance(v, complex):
        return {"$complex": [v.real, v.imag]}
    if isinstance(v, int):  # bool handled above; int subclasses (numpy-free enums...)
        return int(v)
    if isinstance(v, float):
        return float(v)
    raise StateDataError(where, f"cannot save a value of type {type(v).__module__}.{type(v).__qualname__}")


def _sort_key(x: Any) -> str:
    import json
    return json.dumps(x, sort_keys=True)


def decode_value(d: Any, where: str = "value") -> Any:
    """The inverse of :func:`encode_value`; an unknown tag is a :class:`StateDataError`."""
    if d is None or isinstance(d, (bool, str, int, float)):
        return d
    if isinstance(d, list):
        return [decode_value(x, where) for x in d]
    if not isinstance(d, dict):
        raise StateDataError(where, f"not a saved value: {type(d).__name__}")
    if len(d) == 1:
        (tag, payload), = d.items()
        if tag.startswith("$"):
            return _decode_tag(tag, payload, where)
    if any(k.startswith("$") for k in d):
        raise StateDataError(where, "a dict with '$' keys must be saved as {\"$dict\": ...}")
    return {k: decode_value(x, where) for k, x in d.items()}


def _decode_tag(tag: str, p: Any, where: str) -> Any:  # noqa: C901 - one branch per tag
    try:
        if tag == "$dict":
            return {_hashable(decode_value(k, where)): decode_value(v, where) for k, v in p}
        if tag == "$tuple":
            return tuple(decode_value(x, where) for x in require(p, list, where))
        if tag in ("$bytes", "$bytearray"):
            raw = decode_bytes(p, where)
            return raw if tag == "$bytes" else bytearray(raw)
        if tag in ("$set", "$frozenset"):
            items = [_hashable(decode_value(x, where)) for x in require(p, list, where)]
            return set(items) if tag == "$set" else frozenset(items)
        if tag in ("$datetime", "$date", "$time", "$timedelta", "$decimal", "$uuid", "$complex"):
            return _decode_plain(tag, p)
        import numpy as np
        import pandas as pd
        if tag == "$NA":
            return pd.NA
        if tag == "$NaT":
            return pd.NaT
        if tag == "$timestamp":
            value, unit, tz = p
            ts = pd.Timestamp(_int(value), unit="ns", tz="UTC" if tz else None)
            ts = ts.tz_convert(tz) if tz else ts
            return ts.as_unit(str(unit))
        if tag == "$timedelta64":
            value, unit = p
            return pd.Timedelta(_int(value), unit="ns").as_unit(str(unit))
        if tag == "$np":
            dtype = _np_dtype(p[0])
            if dtype.kind == "O":
                raise ValueError("object scalar")
            if dtype.kind in "mM":
                return np.array([_int(p[1])], dtype="i8").view(dtype)[0]
            return dtype.type(decode_value(p[1], where))
        if tag == "$ndarray":
            dtype, shape, flat = p
            dt_ = _np_dtype(dtype)
            values = [decode_value(x, where) for x in require(flat, list, where)]
            arr = np.array(values, dtype=dt_) if dt_.kind != "O" else _object_array(values)
            return arr.reshape([_int(n) for n in shape])
    except StateDataError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, decimal.InvalidOperation):
        raise StateDataError(where, f"a malformed {tag} value") from None
    raise StateDataError(where, f"unknown value tag {tag!r}")


def _decode_plain(tag: str, p: Any) -> Any:
    if tag == "$datetime":
        text, offset = p
        value = dt.datetime.fromisoformat(str(text))
        if offset is not None:
            value = value.replace(tzinfo=dt.timezone(dt.timedelta(seconds=float(offset))))
        return value
    if tag == "$date":
        return dt.date.fromisoformat(str(p))
    if tag == "$time":
        return dt.time.fromisoformat(str(p))
    if tag == "$timedelta":
        days, seconds, micros = p
        return dt.timedelta(days=_int(days), seconds=_int(seconds), microseconds=_int(micros))
    if tag == "$decimal":
        return decimal.Decimal(str(p))
    if tag == "$uuid":
        return uuid.UUID(str(p))
    re_, im = p
    return complex(float(re_), float(im))


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("an integer was expected")
    return v


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, dict, set, bytearray)):
        raise TypeError("unhashable key")
    return v


def _np_dtype(text: Any) -> Any:
    import numpy as np
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError("bad dtype")
    dtype = np.dtype(text)
    if dtype.kind not in "biufcUSOmM?" or dtype.hasobject and dtype.kind != "O":
        raise ValueError("bad dtype")
    return dtype


def _object_array(values: list[Any]) -> Any:
    import numpy as np
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


# -- pandas frames ----------------------------------------------------------------------------
def encode_frame(frame: "pd.DataFrame", where: str = "frame") -> dict[str, Any]:
    """A frame as ``{"index", "columns", "data": [column...]}``, each column and index as a
    typed series (:func:`encode_series`): dtypes, NaN vs NA, and object values come back exactly."""
    if frame.columns.nlevels != 1 or frame.index.nlevels != 1:
        raise StateDataError(where, "frames with a MultiIndex are not saved")
    if not frame.columns.is_unique:
        raise StateDataError(where, "frames with repeated column names are not saved")
    return {"index": _encode_index(frame.index, f"{where}.index"),
            "columns": _encode_index(frame.columns, f"{where}.columns"),
            "data": [encode_series(frame.iloc[:, i], f"{where}[{frame.columns[i]!r}]")
                     for i in range(frame.shape[1])]}


def decode_frame(data: Any, where: str = "frame") -> "pd.DataFrame":
    import pandas as pd

    require(data, dict, where)
    index = _decode_index(field(data, "index", dict, where), f"{where}.index")
    columns = _decode_index(field(data, "columns", dict, where), f"{where}.columns")
    series = [decode_series(s, f"{where}.data[{i}]") for i, s in enumerate(field(data, "data", list, where))]
    if len(series) != len(columns):
        raise StateDataError(where, f"{len(columns)} column names but {len(series)} columns")
    if any(len(s) != len(index) for s in series):
        raise StateDataError(where, "a column's length differs from the index's")
    if not series:
        return pd.DataFrame(index=index, columns=columns)
    frame = pd.concat([s.set_axis(index) for s in series], axis=1, ignore_index=True)
    frame.columns = columns
    return frame


def _encode_index(index: "pd.Index", where: str) -> dict[str, Any]:
    import pandas as pd
    name = encode_value(index.name, where)
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": name}
    return {"values": encode_series(index.to_series(index=range(len(index))), where), "name": name}


def _decode_index(data: dict[str, Any], where: str) -> "pd.Index":
    import pandas as pd
    name = decode_value(data.get("name"), where)
    if "range" in data:
        start, stop, step = (_checked(lambda: [_int(x) for x in data["range"]], where))
        if step == 0:
            raise StateDataError(where, "a range step of 0")
        return pd.RangeIndex(start, stop, step, name=name)
    return pd.Index(decode_series(field(data, "values", dict, where), where), name=name)


def _checked(fn: Any, where: str) -> Any:
    try:
        return fn()
    except (TypeError, ValueError, KeyError):
        raise StateDataError(where, "malformed") from None


def encode_series(s: "pd.Series", where: str = "series") -> dict[str, Any]:
    """One column: ``{"dtype": descriptor, "values": [...]}`` (see :func:`_values_of`)."""
    return {"dtype": _dtype_descriptor(s.dtype, where), "values": _values_of(s, where)}


def decode_series(data: Any, where: str = "series") -> "pd.Series":
    import numpy as np
    import pandas as pd

    require(data, dict, where)
    desc = field(data, "dtype", (str, dict), where)
    values = field(data, "values", (list, dict), where)
    try:
        if isinstance(desc, dict) and "category" in desc:
            cat = desc["category"]
            categories = pd.Index(decode_series(field(cat, "categories", dict, where), where))
            codes = np.array([_int(c) for c in require(values, list, where)], dtype="i8")
            if len(codes) and (codes.min() < -1 or codes.max() >= len(categories)):
                raise ValueError("category code out of range")
            return pd.Series(pd.Categorical.from_codes(codes, categories=categories,
                                                       ordered=bool(cat.get("ordered"))))
        if isinstance(desc, dict) and "datetime" in desc:
            ints = np.array([_int(v) for v in require(values, list, where)], dtype="i8")
            utc = pd.Series(ints.view(f"datetime64[{_dtype_of(desc).unit}]")).dt.tz_localize("UTC")
            return utc.dt.tz_convert(str(desc["tz"]))
        dtype = _dtype_of(desc)
        if isinstance(dtype, np.dtype):
            return _numpy_series(dtype, values, where)
        return pd.Series(pd.array([decode_value(v, where) for v in require(values, list, where)], dtype=dtype))
    except StateDataError:
        raise
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise StateDataError(where, f"values do not fit dtype {desc!r} ({e})") from None


def _numpy_series(dtype: Any, values: Any, where: str) -> "pd.Series":
    import numpy as np
    import pandas as pd
    require(values, list, where)
    if dtype.kind in "mM":
        ints = np.array([_int(v) for v in values], dtype="i8")
        return pd.Series(ints.view(dtype))
    if dtype.kind == "O":
        return pd.Series(_object_array([decode_value(v, where) for v in values]), dtype=object)
    if dtype.kind == "b":
        if not all(isinstance(v, bool) for v in values):
            raise TypeError("booleans were expected")
    elif dtype.kind in "iu":
        values = [_int(v) for v in values]
    else:
        values = [decode_value(v, where) for v in values]
        if not all(isinstance(v, (int, float, complex)) and not isinstance(v, bool) for v in values):
            raise TypeError("numbers were expected")
    return pd.Series(np.array(values, dtype=dtype))


def _dtype_descriptor(dtype: Any, where: str) -> Any:
    import numpy as np
    import pandas as pd
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "biufcOmM":
            raise StateDataError(where, f"cannot save a column of dtype {dtype}")
        return dtype.str if dtype.kind not in "mM" else str(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        return {"category": {"categories": encode_series(pd.Series(dtype.categories), where),
                             "ordered": bool(dtype.ordered)}}
    if isinstance(dtype, pd.StringDtype):
        return {"string": dtype.storage, "na": "NA" if dtype.na_value is pd.NA else "nan"}
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"datetime": dtype.unit, "tz": str(dtype.tz)}
    name = str(dtype)
    try:
        if pd.api.types.pandas_dtype(name) == dtype:
            return {"pandas": name}
    except (TypeError, ValueError):
        pass
    raise StateDataError(where, f"cannot save a column of dtype {dtype}")


def _dtype_of(desc: Any) -> Any:
    import numpy as np
    import pandas as pd
    if isinstance(desc, str):
        if desc.startswith(("datetime64[", "timedelta64[")):
            return np.dtype(desc)
        return _np_dtype(desc)
    if "string" in desc:
        na = pd.NA if desc.get("na") == "NA" else np.nan
        try:
            return pd.StringDtype(str(desc["string"]), na_value=na)
        except TypeError:  # pandas < 2.3 has no na_value
            return pd.StringDtype(str(desc["string"]))
    if "datetime" in desc:
        return pd.DatetimeTZDtype(unit=str(desc["datetime"]), tz=str(desc["tz"]))
    if "pandas" in desc:
        name = str(desc["pandas"])
        if len(name) > 60:
            raise ValueError("bad dtype")
        return pd.api.types.pandas_dtype(name)
    raise ValueError("unknown dtype descriptor")


def _values_of(s: "pd.Series", where: str) -> list[Any]:
    import numpy as np
    import pandas as pd
    dtype = s.dtype
    if isinstance(dtype, np.dtype):
        arr = s.to_numpy()
        if dtype.kind in "mM":
            return arr.view("i8").tolist()
        if dtype.kind == "O":
            return [encode_value(v, where) for v in arr.tolist()]
        if dtype.kind in "fc":
            return [encode_value(v, where) for v in arr.tolist()]
        return arr.tolist()
    if isinstance(dtype, pd.CategoricalDtype):
        return s.cat.codes.astype("i8").tolist()
    if isinstance(dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view("i8").tolist()
    return [encode_value(None if v is pd.NA else (v.item() if isinstance(v, np.generic) else v), where)
            for v in s.array]


def pairs(items: Iterable[tuple[Any, Any]]) -> list[list[Any]]:
    """A mapping with non-string keys (tuples, ints) as a list of ``[key, value]`` pairs."""
    return [[k, v] for k, v in items]
