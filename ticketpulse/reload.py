"""Live config: the running config, reloaded on SIGHUP and when the file changes.

A valid edit replaces the config whole and takes effect for the next message (each user reads
`LiveConfig.current`, or is told through `subscribe`); the log says what changed. An invalid
edit keeps the running config and logs each wrong key. Reloading never stops the process.

One daemon thread per process polls the file's (mtime, size, inode) once a second and does the
reload that SIGHUP asks for: a signal handler only sets a flag, so nothing heavy (file reads,
logging, building a scorer) ever runs inside it. Under gunicorn every worker process has its own
thread (restarted in a process forked after the app was built, e.g. with --preload).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any, Callable

from ticketpulse.config import Config, ConfigError, config_path, load_config

log = logging.getLogger("ticketpulse.config")

POLL_SECONDS = 1.0
# Read once at start; a change is logged but waits for the next restart.
RESTART_KEYS = ("worker.concurrency",)

Listener = Callable[[Config, Config], None]
_UNREAD = ("not read yet",)  # a stamp no file has: the next check reloads


def flatten(config: Config) -> dict[str, Any]:
    """{"thresholds.frustration_threshold": 0.75, ...}: every key by its dotted name."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        else:
            flat[prefix] = value

    walk("", config.model_dump())
    return flat


def changes(old: Config, new: Config) -> list[str]:
    before, after = flatten(old), flatten(new)
    return [f"{key}: {before.get(key)!r} -> {after.get(key)!r}" for key in sorted(after) if before.get(key) != after.get(key)]


def _stamp(path: Path | None) -> tuple | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def refuse_a_config_that_cannot_be_reread(path: Path | None) -> None:
    """A followed config is reread when it changes: a pipe (`--config <(...)`) reads empty the
    second time, and the running config would silently become the defaults."""
    if path is not None and path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    if path is not None and path.exists() and not path.is_file():
        raise ConfigError(f"{path}: not a regular file (a pipe?); a running ticketpulse rereads its config "
                          "when it changes, so give it a file")


class LiveConfig:
    """The running config of one process; replaced only by a reload that validated."""

    def __init__(
        self,
        config: Config,
        explicit: str | os.PathLike | None = None,
        *,
        validate: Callable[[Config], None] | None = None,
    ) -> None:
        self.current = config
        self._at_start = flatten(config)  # what the RESTART_KEYS run with until a restart
        # The file the config came from, or the one that would be read if it appeared.
        self.path = config_path(explicit) or Path("ticketpulse.toml").absolute()
        refuse_a_config_that_cannot_be_reread(self.path)
        self._validate = validate
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._stamp = self._stamp_of_the_running_config()
        self._wake = threading.Event()
        self._pending: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_pid: int | None = None

    def _stamp_of_the_running_config(self) -> tuple | None:
        """The file's stamp, if the file still says what the running config says.

        The caller read the config earlier (before migrating, building the scorer or the app),
        and an edit saved in between would otherwise be stamped as already read, and missed
        until the next edit. Stamp first, then compare: a write after the stamp changes it."""
        stamp = _stamp(self.path)
        if stamp is None:
            return None
        try:
            on_file = load_config(self.path)
        except ConfigError:
            return _UNREAD  # the first check reloads, and logs why the file is refused
        return stamp if on_file == self.current else _UNREAD

    def subscribe(self, listener: Listener) -> None:
        """`listener(old, new)` after each valid reload that changed something."""
        self._listeners.append(listener)

    # -- reloading ------------------------------------------------------------------------------

    def reload(self, why: str) -> bool:
        """Read the file again; True when a new config was taken."""
        with self._lock:
            self._stamp = _stamp(self.path)
            old = self.current
            if not self.path.exists():
                log.warning("config reload (%s): %s does not exist; keeping the running config", why, self.path)
                return False
            try:
                new = load_config(self.path)
                if self._validate is not None:
                    self._validate(new)
            except ConfigError as exc:
                for problem in exc.problems:
                    log.error("config reload (%s) refused, keeping the running config: %s", why, problem)
                return False
            changed = changes(old, new)
            if not changed:
                log.info("config reread from %s (%s): no change", self.path, why)
                return False
            self.current = new
            for listener in self._listeners:
                try:
                    listener(old, new)
                except Exception:  # one user failing to take the new config must not stop the rest
                    log.exception("config reload (%s): applying the new config failed", why)
            log.info("config reloaded from %s (%s): %s", self.path, why, "; ".join(changed))
            for key in RESTART_KEYS:
                if any(line.startswith(f"{key}:") for line in changed):
                    if flatten(new)[key] == self._at_start[key]:
                        log.info("config: %s is back to the value it runs with", key)
                    else:
                        log.warning("config: %s takes effect at the next restart", key)
            return True

    def check_file(self) -> bool:
        """Reload when the file changed since the last read."""
        if _stamp(self.path) == self._stamp:
            return False
        return self.reload("file changed")

    def request_reload(self, why: str) -> None:
        """Safe inside a signal handler: the watcher thread does the work."""
        self._pending = why
        self._wake.set()

    # -- the watcher ----------------------------------------------------------------------------

    def watch(self, stop: threading.Event | None = None, interval: float = POLL_SECONDS) -> None:
        """Start the watcher thread of this process (again, in a forked child)."""
        if self._thread is not None and self._thread.is_alive() and self._thread_pid == os.getpid():
            return
        self._thread_pid = os.getpid()
        self._thread = threading.Thread(
            target=self._loop, args=(stop or threading.Event(), interval), name="ticketpulse-config", daemon=True
        )
        self._thread.start()

    def _loop(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            try:
                why, self._pending = self._pending, None
                if why:
                    self.reload(why)
                else:
                    self.check_file()
            except Exception:
                log.exception("config watcher: unexpected error; still watching")

    def reload_on_sighup(self) -> None:
        """SIGHUP reloads the config (and never stops the process). Main thread only."""
        signal.signal(signal.SIGHUP, lambda _signum, _frame: self.request_reload("SIGHUP"))
