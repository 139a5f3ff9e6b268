"""The Unity Catalog model registry: registered models, versions, aliases and their files (registry URI ``databricks-uc``)."""
