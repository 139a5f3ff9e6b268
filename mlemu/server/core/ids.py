"""Seeded, Databricks-shaped identifiers. One generator per workspace, so a test's IDs
are the same on every run (principle 4: deterministic)."""
from __future__ import annotations

import random


class IdGenerator:
    """Produces every identifier a workspace hands out, from one seeded PRNG."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        #: How many identifiers were drawn (a durable server logs reads that drew one).
        self.draws = 0

    def hex(self, n: int = 32) -> str:
        self.draws += 1
        return f"{self._rng.getrandbits(4 * n):0{n}x}"

    def run_id(self) -> str:
        """32 lowercase hex digits, like a Databricks run ID."""
        return self.hex(32)

    def experiment_id(self) -> str:
        """A 15/16-digit decimal number, like Databricks experiment IDs."""
        self.draws += 1
        return str(self._rng.randrange(10**14, 10**16))

    def logged_model_id(self) -> str:
        return "m-" + self.hex(32)

    def numeric(self, digits: int) -> str:
        self.draws += 1
        return str(self._rng.randrange(10 ** (digits - 1), 10**digits))

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def token(self) -> str:
        """An unguessable-looking secret (presigned URLs, PATs)."""
        return self.hex(40)
