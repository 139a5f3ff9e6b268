"""Identity and discovery: host metadata and the current user (SCIM Me)."""
