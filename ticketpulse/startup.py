"""What a long-running process does once it has loaded everything it keeps."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Put every object alive now out of the garbage collector's reach.

    A web or worker process holds ~100,000 objects from start-up (the app and its routes, the
    tables' metadata, the config, the scorer) that live as long as the process. Left tracked,
    they are all walked by each full collection, the first one a few thousand requests in: on
    the 2-core VM 115-170 ms in which a gunicorn worker answers nothing, the slowest 1 % of
    webhooks at 200 req/s (BENCHMARKS.md). Frozen, they are never scanned again; what requests
    create is collected as before.
    """
    gc.collect()  # start-up's own garbage is freed, not frozen
    gc.freeze()
