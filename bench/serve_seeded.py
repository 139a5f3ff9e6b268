"""``mlemu serve`` with a seeded workspace: what the loopback search scenarios talk to.

Prints the same ``export`` lines as ``mlemu serve``, then ``seeded {"name": "exp_id"}``."""
from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", action="append", default=[], help="NAME=RUNS")
    args = parser.parse_args()
    from mlemu.workspace import Workspace
    from mlemu.server.transport.server import LoopbackServer

    from bench.seeding import seed_mlemu

    ws = Workspace()
    seeded = {}
    for spec in args.seed:
        name, n = spec.rsplit("=", 1)
        seeded[name] = seed_mlemu(ws, name, int(n))
    server = LoopbackServer(ws, "127.0.0.1", 0)
    ws.host = server.url
    print(f"export DATABRICKS_HOST={server.url}", flush=True)
    print(f"export DATABRICKS_TOKEN={ws.token}", flush=True)
    print("seeded " + json.dumps(seeded), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
