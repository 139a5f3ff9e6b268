"""Which release of ``databricks-feature-engineering`` the clean-room client follows.

Teams pin the client their Databricks Runtime ML ships (14.3 LTS: 0.2.x, 15.4 LTS: 0.6.x,
16.4 LTS: 0.10.2, 17.3 LTS: 0.12.1, 18 LTS and 19: 0.13.0), so a test must fail where their
code would: an argument the chosen release does not have is refused as a Python call refuses
it (``TypeError: ... got an unexpected keyword argument``), naming the release that added it.
Pick one with ``@pytest.mark.mlemu(feature_engineering="0.6")`` or
``mlemu.emulate(feature_engineering="0.6")``; the default is :data:`NEWEST`, the release the
API reference was taken from. The choice belongs to the workspace it was made for.
"""
from __future__ import annotations

import weakref
from typing import Any

from packaging.version import InvalidVersion, Version

#: The release mlemu's clients follow when none is chosen.
NEWEST = "0.18.2"

#: Keyword argument -> the first release that has it (from Databricks' release notes).
SINCE: dict[str, str] = {
    "use_spark_native_join": "0.6.0",  # 0.6.0: point-in-time joins with native Spark
    "feature_spec": "0.7.0",           # 0.7.0: training sets from a feature spec
    "default_values": "0.12.1",        # 0.12.1: default values for feature lookups
    "features": "0.14.0",              # declarative features need >= 0.14.0
}

_chosen: "weakref.WeakKeyDictionary[Any, Version]" = weakref.WeakKeyDictionary()


def parse(version: str) -> Version:
    """``"0.6"`` -> ``Version("0.6")``; anything else is a ValueError saying what is accepted."""
    try:
        parsed = Version(str(version))
    except InvalidVersion:
        raise ValueError(f"feature_engineering={version!r} is not a release number "
                         f"(for example '0.6' or '{NEWEST}')") from None
    if parsed.major != 0 or parsed < Version("0.1"):
        raise ValueError(f"feature_engineering={version!r}: mlemu follows databricks-feature-engineering "
                         f"0.1 to {NEWEST}")
    return parsed


def choose(workspace: Any, version: str | None) -> None:
    """Make ``workspace``'s feature engineering clients follow ``version`` (None: the newest)."""
    if version is None:
        _chosen.pop(workspace, None)
    else:
        _chosen[workspace] = parse(version)


def current() -> Version:
    """The release followed in the active workspace (the newest outside one)."""
    from mlemu.server.transport import inprocess

    ws = inprocess.current()
    return _chosen.get(ws, Version(NEWEST)) if ws is not None else Version(NEWEST)


def check(owner: str, argument: str) -> None:
    """Refuse ``argument`` of ``owner`` when the followed release predates it."""
    since = Version(SINCE[argument])
    followed = current()
    if followed < since:
        raise TypeError(f"{owner}() got an unexpected keyword argument '{argument}' "
                        f"(databricks-feature-engineering {followed}; it was added in {since})")
