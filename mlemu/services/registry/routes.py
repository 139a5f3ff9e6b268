"""Routes of the registry service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("registry")

SERVICE = Service("registry", routes)
