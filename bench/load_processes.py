"""The processes ``python -m bench.load`` starts (the app's API and the voice sidecars), how it stops them (always:
SIGTERM to each one's own process group, SIGKILL after a grace period) and their memory sampled over time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

STOP_GRACE_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Child:
    """One started process, in a process group of its own (so Ctrl-C in the terminal reaches only the bench, which
    then stops it; its own children, granian's worker for instance, stop with it)."""

    name: str
    process: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str], log_dir: Path, cwd: Path) -> Child:
        log_path = log_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        return cls(name, process, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_bytes(self) -> int | None:
        """Resident memory of the process and its descendants (granian runs the app in a worker process)."""
        try:
            parent = psutil.Process(self.pid)
            total = parent.memory_info().rss
            for child in parent.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            return total
        except psutil.Error:
            return None

    def stop(self) -> None:
        """SIGTERM to its process group (the sidecar hangs up its calls and leaves the heartbeat table), then SIGKILL
        to whatever is left after the grace period."""
        if not self.alive():
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # the leader gone or not: its group's stragglers too
        except ProcessLookupError:
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass


def stop_all(children: list[Child]) -> None:
    """Stops them at once (each gets its grace period in parallel), so a Ctrl-C never waits 20 s per process."""
    threads = [threading.Thread(target=child.stop, name=f"stop-{child.name}") for child in children]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STOP_GRACE_SECONDS + 10)


@dataclass
class MemorySampler:
    """RSS of each process every ``every`` seconds, in a thread, from ``start()`` until ``stop()``."""

    processes: dict[str, Child | None]  # None: this process (the load generator)
    every: float = 5.0
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.samples = {name: [] for name in self.processes}
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.every + 5)
        self._sample()  # the state at the end of the load

    def _sample(self) -> None:
        now = time.monotonic()
        for name, child in self.processes.items():
            rss = psutil.Process().memory_info().rss if child is None else child.rss_bytes()
            if rss is not None:
                self.samples[name].append((now, rss))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)


def quarter_growth(samples: list[tuple[float, int]]) -> tuple[float, float, float]:
    """Mean RSS of the first and the last quarter of the samples (by count), and the growth in % between them."""
    values = [rss for _, rss in samples]
    if len(values) < 4:
        first, last = values[0], values[-1]
    else:
        quarter = len(values) // 4
        first, last = sum(values[:quarter]) / quarter, sum(values[-quarter:]) / quarter
    return first, last, (last - first) * 100 / first if first else 0.0
