import os
import subprocess
import sys

SCRIPT = """
from databricks.sdk import WorkspaceClient
w = WorkspaceClient()
w.workspace.mkdirs('/Shared/jobs/' + __import__('sys').argv[1])
print(w.current_user.me().user_name)
"""


def test_child_process_reaches_the_workspace(served_workspace):
    assert os.environ["DATABRICKS_HOST"].startswith("http://127.0.0.1:")
    out = subprocess.run([sys.executable, "-c", SCRIPT, "nightly"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == served_workspace.user.user_name
    assert served_workspace.workspace_files.exists("/Shared/jobs/nightly")
