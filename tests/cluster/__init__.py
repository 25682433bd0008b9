"""Drills on the cluster of `make cluster-up` (marked `cluster`; run by `make test-cluster`)."""
