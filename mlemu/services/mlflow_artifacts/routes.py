"""Routes of the mlflow_artifacts service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("mlflow_artifacts")

SERVICE = Service("mlflow_artifacts", routes)
