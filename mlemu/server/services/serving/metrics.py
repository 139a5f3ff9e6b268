"""``GET /api/2.0/serving-endpoints/{name}/metrics``: the Prometheus text exposition of an
endpoint's health metrics, computed from the invocations the workspace answered.

Metric names follow Databricks' export (``request_count_total``, ``request_4xx_count_total``,
``request_5xx_count_total``, ``request_latency_ms`` histogram, ``cpu_usage_percentage``,
``mem_usage_percentage``, ``provisioned_concurrent_requests_total``), one series per served
entity (label ``served_entity_name``). CPU and memory are not measured: they read 0 [emu].
"""
from __future__ import annotations

from typing import Iterable

LATENCY_BUCKETS_MS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def render(samples: Iterable[tuple[str | None, int, int]]) -> str:
    """``samples``: (served entity name, HTTP status, latency ms) per invocation."""
    by_entity: dict[str, list[tuple[int, int]]] = {}
    for entity, status, latency in samples:
        by_entity.setdefault(entity or "", []).append((status, latency))
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    entities = sorted(by_entity)
    family("request_count_total", "counter", "Number of requests processed.")
    for e in entities:
        lines.append(f'request_count_total{{served_entity_name="{e}"}} {len(by_entity[e])}')
    family("request_4xx_count_total", "counter", "Number of requests answered with a 4xx status.")
    for e in entities:
        lines.append(f'request_4xx_count_total{{served_entity_name="{e}"}} '
                     f'{sum(1 for s, _ in by_entity[e] if 400 <= s < 500)}')
    family("request_5xx_count_total", "counter", "Number of requests answered with a 5xx status.")
    for e in entities:
        lines.append(f'request_5xx_count_total{{served_entity_name="{e}"}} '
                     f'{sum(1 for s, _ in by_entity[e] if s >= 500)}')
    family("request_latency_ms", "histogram", "Round-trip latency of requests in milliseconds.")
    for e in entities:
        latencies = [lat for _, lat in by_entity[e]]
        for bound in LATENCY_BUCKETS_MS:
            lines.append(f'request_latency_ms_bucket{{served_entity_name="{e}",le="{bound}"}} '
                         f'{sum(1 for lat in latencies if lat <= bound)}')
        lines.append(f'request_latency_ms_bucket{{served_entity_name="{e}",le="+Inf"}} {len(latencies)}')
        lines.append(f'request_latency_ms_sum{{served_entity_name="{e}"}} {sum(latencies)}')
        lines.append(f'request_latency_ms_count{{served_entity_name="{e}"}} {len(latencies)}')
    for name, help_text in (("cpu_usage_percentage", "Average CPU utilization across replicas."),
                            ("mem_usage_percentage", "Average memory utilization across replicas."),
                            ("provisioned_concurrent_requests_total", "Provisioned concurrency.")):
        family(name, "gauge", help_text)
        for e in entities:
            lines.append(f'{name}{{served_entity_name="{e}"}} 0')
    return "\n".join(lines) + "\n"
