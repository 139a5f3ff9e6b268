"""Routes of the dbfs service."""
from mlemu.plugins import Service
from mlemu.wire.routing import RouteTable

routes = RouteTable("dbfs")

SERVICE = Service("dbfs", routes)
