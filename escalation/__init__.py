"""The domain: comment events, the tracker, the rules, the pipeline and the worker."""
