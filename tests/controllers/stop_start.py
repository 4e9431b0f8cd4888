"""A controller that powers one running server off and on again (stdlib only), for
tests/integration/power_state.rs: at its first step it stops the first server of host 1 with
`stop_server` and asks for a timer in one hour; at the timer it starts it with `start_server`.
Nova's answers are checked: the stop and the start must be accepted."""
import json
import sys


def send(o):
    sys.stdout.write(json.dumps(o, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def recv():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    return json.loads(line)


def call(o):
    send(o)
    return recv()


def main():
    hello = recv()
    assert hello["type"] == "hello", hello
    send({"type": "ready"})
    target = None
    while True:
        m = recv()
        if m["type"] == "end":
            return
        for o in m["observations"]:
            if target is None:
                target = call({"type": "query", "query": {"type": "vms_on", "host": 1}})["vms"][0]["id"]
                r = call({"type": "command", "command": {"type": "stop_server", "vm": target}})
                assert r["ok"], r
                call({"type": "command", "command": {"type": "set_timer", "token": 7, "after_us": 3_600_000_000}})
            elif o["type"] == "timer" and o["token"] == 7:
                r = call({"type": "command", "command": {"type": "start_server", "vm": target}})
                assert r["ok"], r
        send({"type": "done"})


main()
