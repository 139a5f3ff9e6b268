"""The Workspace API: folders and the objects in them (experiments live here too)."""
