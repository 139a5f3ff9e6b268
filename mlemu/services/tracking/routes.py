"""Routes of the tracking service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("tracking")

SERVICE = Service("tracking", routes)
