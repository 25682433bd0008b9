"""Liveness, readiness and database probes (no API prefix, for Kubernetes and load balancers)."""
