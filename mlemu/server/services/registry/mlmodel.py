"""Server-side checks of an uploaded ``MLmodel`` file at ``finalize``.

mlflow validates the signature client-side before it registers a model in Unity Catalog;
the server repeats the check so that nothing (a raw REST call, an old or patched client,
``bypass_signature_validation``) gets an unsigned model to READY. The messages are the
ones mlflow uses, so the user sees the same text whichever side refused.
"""
from __future__ import annotations

from typing import Any

SIGNATURE_EXPLANATION = (
    "All models in the Unity Catalog must be logged with a model signature containing both "
    "input and output type specifications. See "
    "https://mlflow.org/docs/latest/model/signatures.html#how-to-log-models-with-signatures "
    "for details on how to log a model with a signature")

NO_SIGNATURE = ("Model passed for registration did not contain any signature metadata. "
                + SIGNATURE_EXPLANATION)
INPUTS_ONLY = ("Model passed for registration contained a signature that includes only inputs. "
               + SIGNATURE_EXPLANATION)


def parse(data: bytes) -> dict[str, Any]:
    """The MLmodel YAML as a dict ({} when it is not a mapping or does not parse)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster when present
    try:
        doc = yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


def signature_problem(doc: dict[str, Any]) -> str | None:
    """None when the model has a signature with outputs, else the refusal message."""
    sig = doc.get("signature")
    if not isinstance(sig, dict) or not sig:
        return NO_SIGNATURE
    if sig.get("outputs") in (None, "", "null"):
        return INPUTS_ONLY
    return None
