"""Reference views: the least a view on this stack can do for the same request (see each workload)."""

urlpatterns: list = []
