"""Browser smoke test: the real MLflow UI of the installed mlflow, in headless Chromium
(Debian's ``chromium``, driven by playwright-python; playwright's own browser download is
not used), over a seeded workspace served by ``mlemu.serve(ws, ui=True)``.

Every page must show its expected text, and no data call (``/ajax-api``, ``/graphql``,
downloads) may fail, except those that fail against the real ``mlflow server`` as well
(:data:`MLFLOW_SERVER_FAILS`): the failed calls of each page are counted, and the test names
each one that mlflow's server answers. Skips with the reason where no browser or
playwright is installed (``scripts/install-browser.sh`` installs Chromium).

``MLEMU_UI_SCREENSHOTS=<dir>`` saves a screenshot of the main pages (docs/img/ui-*.png).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

import pytest

from tests.server.ui.seed import Seeded, seeded_workspace

CHROMIUM = os.environ.get("MLEMU_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Data calls that fail on these pages against `mlflow server` 3.17.2 too (each page was opened
#: in this browser against a sqlite-backed `mlflow server` holding the same kinds of data):
#: the UI asks for the signed-in user, which mlflow's own server does not answer either.
MLFLOW_SERVER_FAILS = ("/ajax-api/2.0/mlflow/users/current",)
DATA_PATHS = ("/ajax-api/", "/graphql", "/get-artifact", "/model-versions/get-artifact")
#: Pages whose screenshots go into docs/ui.md.
SCREENSHOTS = ("runs", "charts", "run", "artifact-image", "models", "uc-version", "logged-model", "trace")


@dataclass(frozen=True)
class Page:
    name: str
    fragment: Callable[[Seeded, int], str | None]   # the client-side route; None: not in this version
    expect: tuple[str, ...]
    clicks: tuple[str, ...] = ()                     # texts clicked in order after loading
    loads: tuple[str, ...] = field(default=())       # data paths that must have answered 200


def _metric_page(s: Seeded, major: int) -> str:
    return (f"#/metric/?runs={json.dumps([s.run_id])}&metric={quote(json.dumps('accuracy'))}"
            f"&experiments={json.dumps([s.experiment_id])}&plot_metric_keys={quote(json.dumps(['accuracy']))}"
            "&plot_layout={}&x_axis=step&y_axis_scale=linear&line_smoothness=1&show_point=false"
            "&deselected_curves=[]&last_linear_y_axis_range=[]")


def _runs(s: Seeded, major: int) -> str:
    return f"#/experiments/{s.experiment_id}/runs" if major >= 3 else f"#/experiments/{s.experiment_id}"


def _run(s: Seeded, tab: str = "") -> str:
    return f"#/experiments/{s.experiment_id}/runs/{s.run_id}{tab}"


def _logged(s: Seeded, major: int, tab: str = "") -> str | None:
    return f"#/experiments/{s.experiment_id}/models/{s.model_id}{tab}" if major >= 3 else None


def _traces(s: Seeded, major: int) -> str | None:
    return f"#/experiments/{s.experiment_id}/traces" if major >= 3 else None


def _prompt(s: Seeded, major: int) -> str | None:
    return f"#/prompts/{s.prompt}" if s.prompt and major >= 3 else None


PAGES = [
    Page("home", lambda s, v: "#/", ("/Shared/ui-demo",)),
    Page("overview", lambda s, v: f"#/experiments/{s.experiment_id}" if v >= 3 else None,
         ("Overview", "Latency", "13", "Errors"), loads=("/traces/metrics",)),
    Page("prompts", lambda s, v: "#/prompts" if s.prompt and v >= 3 else None, ("main.default.greeting",),
         loads=("/registered-models/search",)),
    Page("prompt", _prompt, ("Hi {{name}}", "Version 1", "Version 2"), loads=("/model-versions/search",)),
    Page("experiments", lambda s, v: "#/experiments" if v >= 3 else None, ("/Shared/ui-demo",)),
    Page("runs", _runs, ("tuned", "baseline", "2 matching runs")),
    Page("charts", lambda s, v: _runs(s, v) + "?compareRunsMode=CHART", ("tuned (accuracy)", "baseline (loss)")),
    Page("run", lambda s, v: _run(s), ("lbfgs", "0.83", "0.41", "churn")),
    Page("run-metrics", lambda s, v: _run(s, "/model-metrics"), ("tuned (accuracy)", "tuned (loss)")),
    Page("artifacts", lambda s, v: _run(s, "/artifacts"), ("plots", "reports")),
    Page("artifact-text", lambda s, v: _run(s, "/artifacts"), ("precision 0.81",),
         clicks=("reports", "summary.txt"), loads=("/get-artifact",)),
    Page("artifact-image", lambda s, v: _run(s, "/artifacts"), ("confusion.png",),
         clicks=("plots", "confusion.png"), loads=("/get-artifact",)),
    Page("metric", _metric_page, ("Completed Runs", "0.83 (step=3)")),
    Page("models", lambda s, v: "#/models", ("main.default.churn_model", "churn-workspace-model", "champion")),
    Page("uc-model", lambda s, v: f"#/models/{s.uc_model}", ("main.default.churn_model", "Version 1", "champion")),
    Page("uc-version", lambda s, v: f"#/models/{s.uc_model}/versions/1", ("Source Run", "champion", "Inputs (3)"),
         loads=("/model-versions/get-artifact",)),
    Page("ws-model", lambda s, v: f"#/models/{s.ws_model}", ("The model in the workspace registry", "Version 1")),
    Page("ws-version", lambda s, v: f"#/models/{s.ws_model}/versions/1", ("Stage (deprecated)", "Inputs (3)")),
    Page("traces", lambda s, v: _traces(s, v), ("meaning of life?", "42")),
    Page("trace", lambda s, v: _traces(s, v), ("answer_question", "retrieve"),
         clicks=('{"question": "meaning of life?"}',), loads=("/get-trace-artifact",)),
    Page("logged-models", lambda s, v: f"#/experiments/{s.experiment_id}/models" if v >= 3 else None,
         ("Ready", "tuned")),
    Page("logged-model", lambda s, v: _logged(s, v), ("lbfgs", "Source run")),
    Page("logged-model-artifacts", lambda s, v: _logged(s, v, "/artifacts"), ("MLmodel", "conda.yaml")),
    Page("logged-model-file", lambda s, v: _logged(s, v, "/artifacts"), ("pickled_model",),
         clicks=("MLmodel",), loads=("/artifacts/files",)),
]


@pytest.fixture(scope="module")
def browser_page(trained_model):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: MLEMU_INSTALL_BROWSER=1 bash scripts/test.sh (or scripts/install-browser.sh) "
                    "installs Debian's chromium")
    from mlemu.server.ui.bundle import UiUnavailable, version
    from mlemu.server.ui.server import serve

    ws, seeded = seeded_workspace(trained_model)
    try:
        server = serve(ws, ui=True)
    except UiUnavailable as e:
        pytest.skip(str(e))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 760})
            # mlflow 3's assistant panel opens itself on a first visit; it has nothing to show here.
            context.add_init_script("localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
                                   "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');")
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(server.login_url)
            assert page.url == server.url + "/"
            major = int((version() or "3").split(".")[0])
            yield page, server, seeded, major
        finally:
            browser.close()
            server.stop()


class _Watch:
    """The responses and failed requests of one page visit."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.responses: list[Any] = []
        self.failures: list[str] = []

    def _response(self, response: Any) -> None:
        self.responses.append(response)

    def _failed(self, request: Any) -> None:
        self.failures.append(f"{request.method} {request.url[len(self.base):]} failed: {request.failure}")

    def __enter__(self) -> "_Watch":
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._failed)
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.remove_listener("response", self._response)
        self.page.remove_listener("requestfailed", self._failed)


@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page_renders_with_its_data(browser_page, spec: Page):  # type: ignore[no-untyped-def]
    page, server, seeded, major = browser_page
    fragment = spec.fragment(seeded, major)
    if fragment is None:
        pytest.skip(f"the {spec.name} page is not in mlflow {major}.x")
    page.goto("about:blank")  # a fresh app per page: nothing carried over from the previous one
    with _Watch(page, server.url) as watch:
        page.goto(f"{server.url}/{fragment}")
        for text in spec.clicks:
            page.get_by_text(text, exact=True).first.click()
        for text in spec.expect:
            page.get_by_text(text).first.wait_for(state="attached")
        page.wait_for_timeout(300)  # calls started by the last render
        if spec.name in SCREENSHOTS and os.environ.get("MLEMU_UI_SCREENSHOTS"):
            _screenshot(page, os.path.join(os.environ["MLEMU_UI_SCREENSHOTS"], f"ui-{spec.name}.png"))
    failed: dict[str, int] = {}  # every failed data call of the page, counted
    for failure in watch.failures:
        failed[failure] = failed.get(failure, 0) + 1
    answered = []
    for r in watch.responses:
        path = r.url[len(server.url):]
        if not path.startswith(DATA_PATHS):
            continue
        answered.append((path, r.status))
        if r.status >= 400:
            key = f"{r.request.method} {path.split('?')[0]} -> {r.status}"
            failed[key] = failed.get(key, 0) + 1
        elif path.startswith("/graphql") and r.status == 200 and r.json().get("errors"):
            failed[f"POST /graphql -> errors {r.json()['errors']}"] = 1
    unexpected = {k: n for k, n in failed.items() if not any(p in k for p in MLFLOW_SERVER_FAILS)}
    assert not unexpected, f"{sum(failed.values())} failed data calls on {spec.name}, " \
        "these not failing on mlflow server:\n" + "\n".join(f"{n} x {k}" for k, n in unexpected.items())
    for needed in spec.loads:
        assert any(needed in path and status == 200 for path, status in answered), (needed, answered)
    if spec.name == "artifact-image":
        # The logged 64x64 picture is shown, decoded from the downloaded bytes.
        page.wait_for_function("Array.from(document.images).some(i => i.complete && i.naturalWidth === 64)")


def _screenshot(page: Any, path: str) -> None:
    """A small PNG (palette colours) for the docs."""
    import io

    from PIL import Image

    raw = page.screenshot()
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS)
    img.quantize(colors=128).save(path, optimize=True)
