"""Schedules and triggers are stored as given and fire when the workspace clock passes them:
``ws.jobs.fire_triggers()``, or any ``time.sleep`` under virtual time."""
from __future__ import annotations

import io
import time

import pytest
from databricks.sdk.service import jobs

NINE_AM = "0 0 9 * * ?"
JAN_1_8AM = 1767254400000  # 2026-01-01T08:00:00Z


@pytest.fixture
def clock(mlemu):
    mlemu.clock.freeze(JAN_1_8AM)
    return mlemu.clock


def _task(script, *params):
    return [jobs.Task(task_key="t", spark_python_task=jobs.SparkPythonTask(python_file=script, parameters=list(params)))]


def test_schedule_fires_each_due_time(mlemu, w, clock, script):
    job = w.jobs.create(name="daily", tasks=_task(script, "{{job.trigger.type}}"),
                        schedule=jobs.CronSchedule(quartz_cron_expression=NINE_AM, timezone_id="UTC"))
    assert w.jobs.get(job.job_id).settings.schedule.pause_status == jobs.PauseStatus.UNPAUSED
    assert mlemu.jobs.fire_triggers() == []
    clock.advance(2 * 3600)                                      # 10:00: the 9:00 run is due
    runs = mlemu.jobs.fire_triggers()
    assert len(runs) == 1 and runs[0].trigger == "PERIODIC" and runs[0].start_time == JAN_1_8AM + 2 * 3600 * 1000
    clock.advance(3 * 86400)
    assert len(mlemu.jobs.fire_triggers()) == 3
    got = list(w.jobs.list_runs(job_id=job.job_id))
    assert len(got) == 4 and got[0].trigger == jobs.TriggerType.PERIODIC
    assert "PERIODIC" in w.jobs.get_run_output(w.jobs.get_run(got[0].run_id).tasks[0].run_id).logs


def test_time_zone_and_pause(mlemu, w, clock, script):
    job = w.jobs.create(name="tz", tasks=_task(script), schedule=jobs.CronSchedule(
        quartz_cron_expression="0 30 9 ? * MON-FRI", timezone_id="America/New_York"))
    clock.advance(6 * 3600)                                      # 14:00Z = 09:00 New York, Thursday
    assert mlemu.jobs.fire_triggers() == []
    clock.advance(3600)                                          # 09:30 New York has passed
    assert len(mlemu.jobs.fire_triggers()) == 1
    w.jobs.update(job.job_id, new_settings=jobs.JobSettings(schedule=jobs.CronSchedule(
        quartz_cron_expression="0 30 9 ? * MON-FRI", timezone_id="America/New_York",
        pause_status=jobs.PauseStatus.PAUSED)))
    clock.advance(7 * 86400)
    assert mlemu.jobs.fire_triggers() == []


def test_virtual_time_sleep_runs_due_jobs(mlemu, w, clock, script):
    import mlemu as emu

    job = w.jobs.create(name="daily", tasks=_task(script), schedule=jobs.CronSchedule(
        quartz_cron_expression=NINE_AM, timezone_id="UTC"))
    with emu.virtual_time(mlemu):
        time.sleep(86400)
    runs = list(w.jobs.list_runs(job_id=job.job_id))
    assert len(runs) == 1 and runs[0].state.result_state == jobs.RunResultState.SUCCESS


def test_periodic_trigger(mlemu, w, clock, script):
    w.jobs.create(name="hourly", tasks=_task(script), trigger=jobs.TriggerSettings(
        periodic=jobs.PeriodicTriggerConfiguration(interval=2, unit=jobs.PeriodicTriggerConfigurationTimeUnit.HOURS)))
    clock.advance(5 * 3600)
    assert len(mlemu.jobs.fire_triggers()) == 2


def test_file_arrival_trigger_runs_once_per_new_file(mlemu, w, clock, script):
    mlemu.unity_catalog.ensure_schema("main.raw")
    landing = "/Volumes/main/raw/landing/"
    w.jobs.create(name="ingest", tasks=_task(script, "{{job.trigger.file_arrival.location}}"),
                  trigger=jobs.TriggerSettings(file_arrival=jobs.FileArrivalTriggerConfiguration(url=landing)))
    assert mlemu.jobs.fire_triggers() == []
    w.files.upload(landing + "a.csv", io.BytesIO(b"x\n1\n"))
    runs = mlemu.jobs.fire_triggers()
    assert len(runs) == 1 and runs[0].trigger == "FILE_ARRIVAL"
    assert landing in runs[0].task("t").logs
    assert mlemu.jobs.fire_triggers() == []                      # nothing new
    clock.advance(60)
    w.files.upload(landing + "b.csv", io.BytesIO(b"x\n2\n"))
    assert len(mlemu.jobs.fire_triggers()) == 1


def test_quartz_features(mlemu, w, clock, script):
    from mlemu.server.services.jobs import schedule

    def fires(expr, days):
        return schedule.fire_times(expr, "UTC", JAN_1_8AM, JAN_1_8AM + int(days * 86400_000), 100)

    assert len(fires("0 0 12 L * ?", 62)) == 2                   # Jan 31, Feb 28
    assert len(fires("0 0 12 ? * 6#3", 62)) == 2                 # third Friday of Jan and Feb
    assert len(fires("0 0/15 8 * * ?", 0.5)) == 3                # 8:15, 8:30, 8:45 (8:00 is not after now)
    with pytest.raises(Exception, match="'W'"):
        schedule.parse("0 0 12 15W * ?")
