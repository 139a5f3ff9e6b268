"""The coverage table of emulated endpoints, generated from the routing table (so it cannot
drift from what is served). ``mlemu coverage -o docs/coverage.md`` writes it."""
from __future__ import annotations

from mlemu import plugins


def render_markdown() -> str:
    services = plugins.services()
    lines = [
        "# Coverage: emulated endpoints",
        "",
        "Generated from mlemu's routing table by `mlemu coverage -o docs/coverage.md`; do not edit.",
        "",
    ]
    total = 0
    for name, service in services.items():
        routes = sorted(service.routes.routes, key=lambda r: (r.rule, r.method))
        if not routes:
            continue
        total += len(routes)
        title = f"## {name}" + (f": {service.description}" if service.description else "")
        lines += [title, "", "| Method | Path | Operation | Auth | Client calls |", "|---|---|---|---|---|"]
        for r in routes:
            calls = ", ".join(f"`{c}`" for c in r.client_calls) or "-"
            lines.append(f"| {r.method} | `{r.rule}` | `{r.operation}` | {'yes' if r.auth else 'no'} | {calls} |")
        lines.append("")
    lines.insert(4, f"{total} routes in {sum(1 for s in services.values() if s.routes.routes)} services.\n")
    return "\n".join(lines)
