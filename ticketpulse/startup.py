"""What a long-running process does once it has loaded everything it keeps."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Put every object alive now out of the garbage collector's reach.

    A web or worker process holds ~87,000 objects from start-up (the app and its routes, the
    tables' metadata, the config) that live as long as the process. Left tracked, they are all
    walked by every full collection: ~95 ms on the 2-core VM, in which the process answers
    nothing and its threads stop (BENCHMARKS.md). Frozen, they are never walked again; what
    requests create is collected as before.
    """
    gc.collect()  # start-up's own garbage is freed, not frozen
    gc.freeze()
