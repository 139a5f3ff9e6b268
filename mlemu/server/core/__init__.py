"""Domain core shared by every service: errors, ids, clock, journal, the Workspace."""
