"""The data paths the MLflow web UI calls that no API client does (GraphQL, artifact
downloads, server-info, the registry view the UI browses); served by ``mlemu serve --ui``."""
