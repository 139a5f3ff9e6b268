"""Wire layer: routes, request parsing and validation, response and error rendering."""
