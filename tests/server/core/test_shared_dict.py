"""SharedDict: values shared with a snapshot are copied on first access, writes replace them."""
from __future__ import annotations

import pickle

from mlemu.server.core.shared_dict import SharedDict


def test_freeze_then_every_read_path_hands_out_a_private_copy():
    d = SharedDict(a=[1], b=[2], c=[3], e=[5])
    frozen = d.freeze()
    d["a"].append(10)
    d.get("b").append(20)
    dict(d.items())["c"].append(30)
    d.values()[-1].append(50)
    assert frozen == {"a": [1], "b": [2], "c": [3], "e": [5]}
    assert dict(d) == {"a": [1, 10], "b": [2, 20], "c": [3, 30], "e": [5, 50]}


def test_thaw_shares_until_read_and_writes_replace():
    frozen = {"a": [1], "b": [2]}
    d = SharedDict.thaw(frozen)
    d["a"].append(9)
    d["b"] = [7]
    assert frozen == {"a": [1], "b": [2]}
    assert d["a"] == [1, 9] and d["b"] == [7]
    assert d.pop("a") == [1, 9] and "a" not in d
    assert d.get("zz", "default") == "default"
    assert d.setdefault("n", [0]) == [0]


def test_an_unfrozen_dict_hands_out_the_values_themselves():
    value = [1]
    d = SharedDict(k=value)
    assert d["k"] is value


def test_pickled_whole_with_nothing_shared():
    d = SharedDict(a=[1])
    d.freeze()
    copy = pickle.loads(pickle.dumps(d))
    assert type(copy) is SharedDict and dict(copy) == {"a": [1]}
    value = dict.__getitem__(copy, "a")
    assert copy["a"] is value  # not shared: no copy on access
