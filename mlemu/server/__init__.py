"""The emulated workspace, server side: domain core (``core``), the wire layer (``wire``), one
package per Databricks service (``services``), the transports that carry requests to it
(``transport``), the MLflow web UI front (``ui``) and the plugin registry (``plugins``,
``hookspecs``). Nothing here imports the client-side stand-ins or the test toolkit."""
