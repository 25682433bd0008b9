"""Event log on Cassandra: the /logs API, the activity feed and the non-blocking activity writer."""
