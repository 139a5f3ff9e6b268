"""Lakehouse monitoring (data profiling): monitors, refreshes, metric tables."""
