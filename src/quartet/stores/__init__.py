"""The only package that imports and configures datastore drivers."""
