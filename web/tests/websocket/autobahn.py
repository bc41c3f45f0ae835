"""Autobahn|Testsuite's cases (through `kosoku`) against the demo's /ws/echo.

Run by web/tests/websocket_autobahn.rs with the server's port and the case globs; prints one
`case behavior behaviorClose` line per case that is not OK (INFORMATIONAL counts as OK), then
`cases N`; or `skipped: ...` if `kosoku` is not installed.
"""
import asyncio
import sys

try:
    from kosoku import run_fuzzingclient
    from kosoku import FailureError
except ImportError:
    print("skipped: python3 kosoku missing (pip install kosoku)")
    sys.exit(0)

PORT = sys.argv[1]
CASES = sys.argv[2:]
FINE = ("OK", "INFORMATIONAL")


async def main() -> None:
    try:
        results = await run_fuzzingclient(f"ws://127.0.0.1:{PORT}/ws/echo", CASES, concurrency=2)
    except FailureError as e:
        results = e.results
    for r in results:
        if r.behavior.value not in FINE or r.behavior_close.value not in FINE:
            print(r.case_id, r.behavior.value, r.behavior_close.value)
    print("cases", len(results))


asyncio.run(main())
