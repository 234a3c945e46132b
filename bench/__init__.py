"""`make bench`: the product measured against the fastest way this machine can do the same work (issue 8)."""
