"""A dict whose values can be shared with snapshots, copied on first access.

A workspace snapshot must not pay for every stored item: :meth:`SharedDict.freeze` hands a
snapshot a plain copy of the dict (references, not values) and marks every value shared; the
first time a shared value is read back through the dict it is replaced by a private copy, so
whatever the caller then changes never reaches the snapshot. A restored dict
(:meth:`SharedDict.thaw`) starts with every value shared the same way. Values are copied with
``copy.deepcopy`` (never a pickle round trip: the package holds no ``pickle.loads`` outside the
export format), so they must not hold the workspace itself.

Only reads through this dict are guarded: a value obtained *before* a snapshot and changed
after it would change the snapshot too (code keeps values only for the span of one call).
"""
from __future__ import annotations

import copy
from typing import Any


def _copy(value: Any) -> Any:
    return copy.deepcopy(value)


class SharedDict(dict):  # type: ignore[type-arg]
    """``dict`` with copy-on-access values after :meth:`freeze` / :meth:`thaw`. ``__iter__``
    is deliberately not overridden: ``dict(d)`` then copies references in C, unguarded."""

    __slots__ = ("_shared",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: set[Any] = set()

    # -- snapshots -------------------------------------------------------------------------
    def freeze(self) -> dict[Any, Any]:
        """A plain dict of the current values for a snapshot (O(n) references, no copies);
        from now on each value is copied before this dict hands it out."""
        frozen = dict(self)
        self._shared = set(frozen)
        return frozen

    @classmethod
    def thaw(cls, frozen: dict[Any, Any]) -> "SharedDict":
        """A live dict over a snapshot's values, each copied on first access."""
        d = cls(frozen)
        d._shared = set(frozen)
        return d

    def _own(self, key: Any, value: Any) -> Any:
        copied = _copy(value)
        dict.__setitem__(self, key, copied)
        self._shared.discard(key)
        return copied

    # -- reads hand out private values -----------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if self._shared and key in self._shared:
            return self._own(key, value)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if dict.__contains__(self, key) else default

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[k] for k in list(dict.keys(self))]

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(k, self[k]) for k in list(dict.keys(self))]

    def pop(self, key: Any, *default: Any) -> Any:
        self._shared.discard(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        self._shared.discard(key)
        return key, value

    # -- writes replace values -------------------------------------------------------------
    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self._shared.discard(key)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self._shared.discard(key)

    def clear(self) -> None:
        dict.clear(self)
        self._shared = set()

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def copy(self) -> "SharedDict":
        return SharedDict(self.items())

    def __reduce__(self) -> Any:
        # Pickled whole (exports, copies): the values as they are, nothing shared.
        return (SharedDict, (dict(self),))
