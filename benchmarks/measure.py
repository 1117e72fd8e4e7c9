"""Run one command and record its wall time, CPU time and peak RSS: a portable `/usr/bin/time`.

    python -I -S benchmarks/measure.py RESULT.json -- COMMAND [ARG ...]

Writes `{"seconds", "user", "sys", "maxrss_kb", "rc"}` to RESULT.json; the command's stdout and stderr
are this process's own (redirect them when calling). Exits 0 unless it could not start the command.

Why a separate small process: Linux folds the memory high-water mark of the address space a process
had *before* `exec` into its `ru_maxrss`. A child forked (or vforked) straight from the benchmark
harness, which may hold hundreds of MB after generating a deck, would report at least the harness's
size. Spawned from this stdlib-only interpreter (about 10 MB, run with `-I -S`), the command's peak
is exact whenever it is above that floor, which every Python command measured here is.
`os.wait4` gives the rusage of exactly that one child, unlike RUSAGE_CHILDREN deltas.
"""

import json
import os
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: measure.py RESULT.json -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    result_path, argv = sys.argv[1], sys.argv[3:]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    maxrss_kb = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    result = {
        "seconds": seconds,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "maxrss_kb": maxrss_kb,
        "rc": os.waitstatus_to_exitcode(status),
    }
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
