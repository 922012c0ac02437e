"""Signals: a job scheduler's SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while the block runs (main thread only: Python installs
    signal handlers there), so a stopped job reports and releases its run like Ctrl-C: the
    Trainer's training loop, and `predict`, whose partial output is then kept for --resume and its
    temporary files removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM received while the block runs are held until it ends, then
    raised again, to whatever handler was there before: a checkpoint written in the block and the
    step recorded for it stay in agreement (trial 93: a stop that landed just after last.pt was
    renamed into place made the message name the step before). Main thread only; elsewhere the
    block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        signal.raise_signal(received[0])


def ignore_sigterm(_worker_id: int = 0) -> None:
    """A DataLoader worker's worker_init_fn: SIGTERM is left to the main process. A stop sent to
    the whole process group (`timeout`, a job scheduler) would otherwise kill the workers first,
    and torch's SIGCHLD handler would turn that into a "DataLoader worker is killed by signal"
    traceback over the clean interrupt; the main process shuts its workers down itself.
    The worker's fd-sharing thread (multiprocessing.resource_sharer, which hands the main process
    a batch's tensors) may then lose its connection mid-handshake; that thread's error is not
    printed (quiet_fd_sharing_errors), as it printed a traceback over the clean interrupt in the
    suite once."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.excepthook = quiet_fd_sharing_errors


def quiet_fd_sharing_errors(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook in a DataLoader worker: a connection error raised in
    multiprocessing.resource_sharer's serving thread (the main process went away while fetching a
    batch's file descriptors, as at a stop) is dropped; every other error goes to Python's hook."""
    tb, in_sharer = args.exc_traceback, False
    while tb is not None:
        in_sharer = in_sharer or tb.tb_frame.f_code.co_filename.endswith("resource_sharer.py")
        tb = tb.tb_next
    if in_sharer and issubclass(args.exc_type, (ConnectionError, EOFError)):
        return
    threading.__excepthook__(args)
