"""The fast JSON encoder writes byte-for-byte what the stdlib encoder writes: random payloads
(NaN, infinities, float exponents, non-ASCII and surrogate text, non-string keys), the run
writer of search pages against ``run_out``, and pre-encoded pages against ``page_body``."""
from __future__ import annotations

import json
import math

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed")
from hypothesis import given, settings, strategies as st  # noqa: E402

from mlemu.server.services.tracking import wire as w  # noqa: E402
from mlemu.server.services.tracking.entities import (  # noqa: E402
    DatasetInput, Metric, Run, RunData, RunInfo,
)
from mlemu.server.wire import jsonenc  # noqa: E402
from mlemu.server.wire.paging import page_body  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, database=None, derandomize=True)


def stdlib(obj) -> bytes:  # type: ignore[no-untyped-def]
    """What the app wrote before the fast encoder: ``json.dumps`` with compact separators."""
    return json.dumps(obj, separators=(",", ":"), check_circular=False).encode()


floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 1e22]))
ints = st.one_of(st.integers(), st.integers(min_value=-(2**70), max_value=2**70))
texts = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
keys = st.one_of(texts, st.integers(), floats, st.booleans(), st.none())
payloads = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5), st.tuples(kids, kids), st.dictionaries(keys, kids, max_size=5)),
    max_leaves=40)


@SETTINGS
@given(payloads)
def test_dumps_equals_the_stdlib_encoder(obj):
    assert jsonenc.dumps(obj) == stdlib(obj)


@SETTINGS
@given(scalars)
def test_value_equals_the_stdlib_encoder(v):
    assert jsonenc.value(v).encode() == stdlib(v)


def test_unencodable_objects_fail_as_in_the_stdlib():
    with pytest.raises(TypeError):
        jsonenc.dumps({"a": object()})
    assert jsonenc.dumps(float("nan")) == b"NaN" and jsonenc.dumps([math.inf, -math.inf]) == b"[Infinity,-Infinity]"


ids = st.text("0123456789abcdef", min_size=1, max_size=32)
metrics = st.builds(Metric, key=texts, value=floats, timestamp=ints, step=ints,
                    model_id=st.none() | ids, dataset_name=st.none() | texts,
                    dataset_digest=st.none() | texts, run_id=st.none() | ids)
datasets = st.builds(DatasetInput, name=texts, digest=texts, source_type=texts, source=texts,
                     schema=st.none() | texts, profile=st.none() | texts,
                     tags=st.dictionaries(texts, texts, max_size=2))


@st.composite
def runs(draw):  # type: ignore[no-untyped-def]
    info = RunInfo(run_id=draw(ids), experiment_id=draw(ids), user_id=draw(texts), run_name=draw(texts),
                   status=draw(st.sampled_from(["RUNNING", "FINISHED", "FAILED"])), start_time=draw(ints),
                   artifact_uri=draw(texts), end_time=draw(st.none() | ints),
                   lifecycle_stage=draw(st.sampled_from(["active", "deleted"])))
    data = RunData(params=draw(st.dictionaries(texts, texts, max_size=4)),
                   tags=draw(st.dictionaries(texts, texts, max_size=4)),
                   metrics=draw(st.dictionaries(texts, metrics, max_size=4)))
    return Run(info, data, dataset_inputs=draw(st.lists(datasets, max_size=2)),
               model_inputs=draw(st.lists(ids, max_size=2)),
               model_outputs=draw(st.lists(st.tuples(ids, ints), max_size=2)))


@SETTINGS
@given(runs())
def test_the_run_writer_equals_run_out(run):
    assert w.run_json(run).encode() == stdlib(w.run_out(run))


@SETTINGS
@given(st.lists(payloads, max_size=4), st.none() | st.just("") | texts, st.sampled_from(["runs", "models"]))
def test_pre_encoded_pages_equal_page_body(items, token, key):
    fragments = [jsonenc.encode(i) for i in items]
    assert jsonenc.join_page(key, fragments, token) == stdlib(page_body(key, items, token))
