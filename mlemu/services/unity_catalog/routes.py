"""Routes of the unity_catalog service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("unity_catalog")

SERVICE = Service("unity_catalog", routes)
