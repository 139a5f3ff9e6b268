"""Every test here runs against its own emulated Databricks workspace."""
import pytest


@pytest.fixture(autouse=True)
def workspace(mlemu):
    """The emulated workspace, with the team folder the code under test expects."""
    mlemu.workspace_files.mkdirs("/Shared/ml-team")
    return mlemu


@pytest.fixture
def w(workspace):
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()


@pytest.fixture
def experiment(workspace):
    import mlflow

    return mlflow.set_experiment("/Shared/ml-team/ci")
