"""The Workspace API: folders, notebooks and files imported into them, and the objects other services place there (experiments)."""
