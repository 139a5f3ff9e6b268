"""Routes of the files service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("files")

SERVICE = Service("files", routes)
