"""The Files API (``/api/2.0/fs``) and the pre-signed URLs mlemu serves (``/presigned``)."""
