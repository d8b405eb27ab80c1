"""Where the per-document work runs: threads in this process (`local`), or Ray tasks on a local instance
or a cluster (`ray`). Both take the documents in order, keep at most `window` of them in flight (memory
stays bounded however many documents there are), hand each an endpoint from the balancer, and yield each
result as it finishes."""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .worker import DocResult, DocTask, Settings, process


class Balancer:
    """Several endpoints serving the same model (N vLLM replicas): each document goes to the one with the
    fewest documents in flight, and on a tie to the one given fewest so far."""

    def __init__(self, urls: list[str]):
        self.urls = list(urls) or [""]
        self.busy = {u: 0 for u in self.urls}
        self.given = {u: 0 for u in self.urls}     # documents each was given, for the summary
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            url = min(self.urls, key=lambda u: (self.busy[u], self.given[u]))
            self.busy[url] += 1
            self.given[url] += 1
            return url

    def release(self, url: str) -> None:
        with self._lock:
            self.busy[url] -= 1


def run_local(tasks: Iterable[DocTask], settings: Settings, balancer: Balancer,
              workers: int = 1) -> Iterator[DocResult]:
    for task, outcome in in_threads(tasks, lambda task, url: process(replace(task, base_url=url), settings),
                                    balancer, workers):
        yield _result(task, outcome)


def in_threads(items: Iterable, work: Callable[[Any, str], Any], balancer: Balancer,
               workers: int = 1) -> Iterator[tuple[Any, Callable[[], Any]]]:
    """(item, a function giving `work(item, endpoint)`'s result or raising its error) for each item, as
    each finishes, `workers` at once and at most `2 * workers` taken from `items` at a time."""
    todo = iter(items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth")
    pending: dict = {}

    def submit() -> bool:
        item = next(todo, None)
        if item is None:
            return False
        url = balancer.take()
        pending[pool.submit(work, item, url)] = (item, url)
        return True
    try:
        # The first item runs alone: what a run imports on first use (LangGraph, the OpenAI client,
        # httpx...) is then imported in one thread; threads importing a module at once can see it half
        # initialised ("partially initialized module 'httpx' has no attribute 'URL'").
        submit()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                item, url = pending.pop(future)
                balancer.release(url)
                yield item, future.result
            while len(pending) < 2 * workers and submit():
                pass
    finally:
        # Ctrl-C (or an error writing) does not wait for the items queued behind those in flight.
        pool.shutdown(wait=not pending, cancel_futures=True)


def run_ray(tasks: Iterable[DocTask], settings: Settings, balancer: Balancer, workers: int = 2,
            address: str = "") -> Iterator[DocResult]:
    """Ray tasks, `2 * workers` in flight. Without `address` a local instance of `workers` CPUs is started
    (and stopped at the end); with one (`ray://host:10001` or `auto`), the cluster's, where longflow must
    be installed and the documents readable at the same paths."""
    try:
        import ray
    except ImportError:
        raise ValueError("--executor ray needs Ray: pip install 'longflow[ray]'") from None
    started_here = not ray.is_initialized()
    handlers = _signal_handlers()
    if started_here:
        env = {k: os.environ[k] for k in ("LONGFLOW_CACHE",) if k in os.environ and not address}
        ray.init(address=address or None, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": env} if env else None)
    remote = ray.remote(num_cpus=1, max_retries=1)(process)
    todo = iter(tasks)
    pending: dict = {}
    try:
        def submit() -> bool:
            task = next(todo, None)
            if task is None:
                return False
            task = replace(task, base_url=balancer.take())
            pending[remote.remote(task, settings)] = task
            return True
        while len(pending) < 2 * workers and submit():
            pass
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(ready[0])
            balancer.release(task.base_url)
            yield _result(task, lambda: ray.get(ready[0]))
            submit()
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
            _restore(handlers)


def _signal_handlers() -> dict:
    """ray.init installs its own SIGTERM handler and leaves it after shutdown: the caller's come back."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore(handlers: dict) -> None:
    for sig, handler in handlers.items():
        if handler is not None:
            signal.signal(sig, handler)


def _result(task: DocTask, get) -> DocResult:
    """The worker's result; a worker that raised (a bug, a lost node) is the document's error, not the
    run's end."""
    try:
        return get()
    except Exception as exc:  # noqa: BLE001 - reported per document in the summary
        return DocResult(task.ref, error=f"{type(exc).__name__}: {exc}"[:500])
