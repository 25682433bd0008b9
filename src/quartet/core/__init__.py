"""Cross-cutting pieces with no domain knowledge and no database driver."""
