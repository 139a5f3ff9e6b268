"""Lakeflow Jobs (``/api/2.2/jobs/*``, and the 2.1 and 2.0 paths older clients call): jobs,
runs, task execution through pluggable task runners, triggers, and MLflow 3 deployment jobs.

* ``settings.py``   - job settings: validation, defaults, the task graph;
* ``references.py`` - dynamic value references (``{{job.id}}``, ``{{tasks.a.values.b}}``...);
* ``schedule.py``   - Quartz cron schedules;
* ``runs.py``       - job runs and task runs, their life cycle and result states;
* ``tasks.py``      - the task-runner seam and the runners that need no client code;
* ``executor.py``   - runs a job run's tasks in order (run_if, retries, timeouts);
* ``state.py``      - ``ws.jobs``: jobs, runs, queueing, repair, triggers, the Python API;
* ``view.py``       - read-only views of a run for tests (``ws.jobs.run_now(...)``);
* ``wire.py`` / ``routes.py`` - request models, JSON shapes and routes.
"""
