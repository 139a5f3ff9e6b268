"""Unity Catalog namespace: catalogs, schemas and tables (pandas frames), and UC functions."""
