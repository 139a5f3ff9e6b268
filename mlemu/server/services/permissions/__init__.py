"""Object permissions (``/api/2.0/permissions/<type>/<id>``) for experiments, workspace-registry
models, serving endpoints and workspace folders and notebooks."""
