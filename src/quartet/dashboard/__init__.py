"""Dashboard statistics, aggregated in the databases and cached briefly in Redis."""
