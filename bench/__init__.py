"""mlemu's benchmark suite (run on demand: ``python bench/run.py``; never part of pytest)."""
