"""``python -m build`` makes a wheel whose install passes the quick start: the fixture from the
entry point, the CLI, every subpackage. The wheel goes into a new virtual environment that sees
this environment's packages (mlflow, the SDK) through a path file, but not this checkout (its
editable install is not on that path), so the test runs offline and only mlemu comes from the wheel."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import sysconfig
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

QUICK_START = '''
import mlflow
from databricks.sdk import WorkspaceClient


def test_logs_a_run(mlemu):
    WorkspaceClient().workspace.mkdirs("/Shared/team")
    mlflow.set_experiment("/Shared/team/churn")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.91)
    assert mlflow.get_run(run.info.run_id).data.metrics == {"auc": 0.91}
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("build", reason="the wheel test needs the 'build' package (requirements/)")
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "mlemu"
    # Build from a clean copy of the tracked files (no venvs, caches or build leftovers).
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout: cannot tell which files are the project's")
    for rel in files.stdout.splitlines():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / rel).is_file():
            target.write_bytes((ROOT / rel).read_bytes())
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, text=True)
    [whl] = out.glob("mlemu-*.whl")
    return whl


@pytest.fixture(scope="module")
def env_with_wheel(wheel, tmp_path_factory):
    target = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The test stack's packages, as a path entry: its .pth files (the editable mlemu) are not read.
    pathlib.Path(site, "test-stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", str(wheel)], check=True, capture_output=True, text=True)
    return python


def test_the_wheel_holds_every_subpackage(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "mlemu").rglob("__init__.py")}
    missing = sorted(p for p in packages if f"{p}/__init__.py" not in names)
    assert missing == []
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_installed_wheel_passes_the_quick_start(env_with_wheel, tmp_path):
    python = env_with_wheel
    where = subprocess.run([str(python), "-c", "import mlemu; print(mlemu.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout
    assert str(ROOT) not in where                     # mlemu comes from the wheel
    (tmp_path / "test_quick_start.py").write_text(QUICK_START)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DATABRICKS_", "MLFLOW_"))}
    done = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_quick_start.py"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    cli = subprocess.run([str(python), "-m", "mlemu.cli", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert cli.returncode == 0 and "serve" in cli.stdout
    assert (python.parent / "mlemu").exists()         # the console script
