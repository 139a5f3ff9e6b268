"""The test toolkit: ``emulate()`` and the pytest plugin, builders, virtual time, snapshots and
exports (``persistence``), the durable server's log (``statedir``), the control plane, and
the coverage report. It drives a :class:`mlemu.Workspace` from above and never reaches into
the wire layer."""
