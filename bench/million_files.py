"""A million-file list: what it costs to parse, and what the receiver pays before READY.

Three measures, each printed with what it was compared with:

1. **Parsing** in this process (no network): CPU seconds of ``messages.parse_metadata`` for the
   list and of ``messages.parse_stream_hashes`` for the legacy hash list of the same files, and
   their traced peak (``tracemalloc``, on a tenth of the files: the ratio does not depend on the
   count, tracemalloc makes it ten times slower) as a multiple of the message's size.
2. **Junk**: a metadata whose file list is ``{},{},…`` (``--junk-mib``, default 64 MiB) parsed
   in a child interpreter: its peak RSS growth (VmHWM) over the same interpreter before the
   parse, as a multiple of the message.
3. **The receiver**: a real ``inlet receive`` process (``RECEIVE`` from _common) against a
   scripted sender on loopback (the real handshake through ``wire.SenderConnection``, no
   files on disk): seconds from the metadata's last byte sent to the receiver's answer (READY
   or its plan), and the receiver's own peak RSS (VmHWM, read from /proc when it answers).
   The sender then closes; the receiver's exit is not timed.

Run: ``python bench/million_files.py`` (``--files N``, ``--no-ext`` for the legacy path).
With another tree's interpreter (``/tmp/venv-old/bin/python bench/million_files.py``) the
same figures are measured for that tree: what docs/PERFORMANCE.md compares.
"""

from __future__ import annotations

import argparse
import gc
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RECEIVE, MiB, fresh_dir, measure

from inlet.core import messages, wire
from inlet.core.events import FileInfo

TOKEN = "million-files-bench"


def file_list(count: int) -> list[FileInfo]:
    """``count`` one-byte files in one folder, flat: ``f0000000.bin``..."""
    return [FileInfo(f"f{i:07d}.bin", 1, i) for i in range(count)]


def _cpu(work) -> tuple[float, object]:
    gc.collect()
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def _traced_ratio(payload: bytes, parse) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        parse(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / len(payload)


def parsing(count: int) -> dict:
    files = file_list(count)
    meta = messages.build_metadata(files, compressed=False, is_message=False, extension=False)
    hashes = messages.build_stream_hashes({f.name: "ab" * 32 for f in files})
    del files
    meta_s, parsed = _cpu(lambda: messages.parse_metadata(meta))
    assert len(parsed.files) == count
    del parsed
    hash_s, parsed = _cpu(lambda: messages.parse_stream_hashes(hashes))
    assert len(parsed) == count
    del parsed
    small = file_list(max(1, count // 10))
    small_meta = messages.build_metadata(small, compressed=False, is_message=False, extension=False)
    small_hashes = messages.build_stream_hashes({f.name: "ab" * 32 for f in small})
    return {
        "files": count,
        "metadata_mib": len(meta) / MiB,
        "hash_list_mib": len(hashes) / MiB,
        "metadata_cpu_s": meta_s,
        "hash_list_cpu_s": hash_s,
        "metadata_traced_ratio": _traced_ratio(small_meta, messages.parse_metadata),
        "hash_list_traced_ratio": _traced_ratio(small_hashes, messages.parse_stream_hashes),
    }


_JUNK_CHILD = """
import sys
from inlet.core import messages
from inlet.core.errors import ProtocolError
size = int(sys.argv[1])
head = b'{"type": "stream", "file_count": 1, "total_size": 0, "files": ['
payload = head + b"{}," * (size // 3) + b"{}]}"
def hwm():
    return int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0])
before = hwm()
try:
    messages.parse_metadata(payload)
    outcome = "accepted"
except ProtocolError as err:
    outcome = str(err).split(". ")[0]
print(len(payload), (hwm() - before) * 1024, outcome, sep="\\t")
"""


def junk(size_mib: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _JUNK_CHILD, str(size_mib * MiB)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    length, growth, outcome = out.rstrip("\n").split("\t")
    return {
        "junk_mib": int(length) / MiB,
        "junk_rss_growth_mib": int(growth) / MiB,
        "junk_ratio": int(growth) / int(length),
        "junk_outcome": outcome,
    }


def _vmhwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


def _next_event(conn: wire.SenderConnection, sock: socket.socket) -> object:
    while True:
        event = conn.next_event()
        if event is not wire.NEED_DATA:
            return event
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        conn.receive_data(sock.recv(1 << 16))


def receiver(count: int, extension: bool) -> dict:
    """The receiver process against a scripted sender: seconds and peak RSS to its answer."""
    files = file_list(count)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(120)
    code = f"127.0.0.1:{server.getsockname()[1]}:{TOKEN}"
    found: dict = {}

    def serve() -> None:
        sock, _ = server.accept()
        with sock:
            sock.settimeout(300)
            conn = wire.SenderConnection(TOKEN, extension=extension)
            conn.start()
            assert isinstance(_next_event(conn, sock), wire.Authenticated)
            conn.send_metadata(files)
            sock.sendall(conn.data_to_send())
            sent = time.perf_counter()
            event = _next_event(conn, sock)
            found["answer_s"] = time.perf_counter() - sent
            found["peak_rss_mib"] = _vmhwm_kib(proc.pid) / 1024
            found["answer"] = type(event).__name__
            found["plan_entries"] = len(event.plan or {}) if hasattr(event, "plan") else None

    dest = fresh_dir("million")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*RECEIVE, "receive", code, "-o", str(dest), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    thread.join(600)
    found["spawn_to_answer_s"] = time.perf_counter() - started
    server.close()
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if "answer_s" not in found:
        raise SystemExit(f"the receiver never answered the file list of {count:,} files")
    return found


def _revision(tree: Path) -> str:
    """The commit of the tree whose ``inlet`` this interpreter imports."""
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def run(count: int, extension: bool, junk_mib: int) -> dict:
    tree = Path(messages.__file__).parent
    res: dict = {"revision": _revision(tree), "tree": str(tree)}
    print(f"  parsing {count:,} entries in this process…", flush=True)
    res["parsing"] = parsing(count)
    print(f"  a {junk_mib} MiB junk file list in a child…", flush=True)
    res["junk"] = junk(junk_mib)
    print(f"  inlet receive, {count:,} files ({'extension' if extension else 'legacy'})…")
    res["receiver"] = receiver(count, extension)
    res["receiver"]["mode"] = "extension" if extension else "legacy"
    return res


def report(res: dict) -> None:
    p, j, r = res["parsing"], res["junk"], res["receiver"]
    print(f"tree {res['tree']} (git {res['revision']})")
    print(
        f"parse_metadata, {p['files']:,} files ({p['metadata_mib']:.0f} MiB): "
        f"{p['metadata_cpu_s']:.2f} CPU s; traced peak {p['metadata_traced_ratio']:.2f}x the JSON"
    )
    print(
        f"parse_stream_hashes ({p['hash_list_mib']:.0f} MiB): {p['hash_list_cpu_s']:.2f} CPU s; "
        f"traced peak {p['hash_list_traced_ratio']:.2f}x the JSON"
    )
    print(
        f"junk file list of {j['junk_mib']:.0f} MiB: RSS +{j['junk_rss_growth_mib']:.0f} MiB "
        f"({j['junk_ratio']:.1f}x) — {j['junk_outcome']}"
    )
    print(
        f"inlet receive, {p['files']:,} files ({r['mode']}): answered ({r['answer']}) "
        f"{r['answer_s']:.1f} s after the list was sent ({r['spawn_to_answer_s']:.1f} s after "
        f"it started); peak RSS {r['peak_rss_mib']:.0f} MiB by then"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--no-ext", action="store_true", help="the legacy (ftransfer) path")
    parser.add_argument("--junk-mib", type=int, default=64)
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    return measure(lambda: run(args.files, not args.no_ext, args.junk_mib), report, args.json)


if __name__ == "__main__":
    main()
