"""Media uploads: direct or by URL, sniffed and checked, stored on local disk or any S3-compatible
object store, with their metadata in PostgreSQL."""
