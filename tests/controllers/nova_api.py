"""Probes the cloud's synchronous API as a controller sees it, once, at its first step, and
writes every answer to answers.json in its out_dir; the integration test checks them against
Nova's rules (nova/compute/api.py: check_instance_lock, check_instance_state,
ComputeServiceInUse; admin_actions.py reset_state)."""
import json
import os
import sys


def send(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def recv():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    return json.loads(line)


def call(o):
    send(o)
    return recv()


def cmd(c):
    return call({"type": "command", "command": c})


def vm(v):
    return call({"type": "query", "query": {"type": "vm", "vm": v}})


hello = recv()
send({"type": "ready"})
answers = {}
probed = False
while True:
    m = recv()
    if m["type"] == "end":
        break
    if not probed:
        probed = True
        snap = call({"type": "query", "query": {"type": "snapshot"}})["snapshot"]
        up = {h["id"] for h in snap["hosts"] if h["service_up"] and h["node_online"]}
        running = [v["id"] for v in snap["vms"] if v["host"] in up and v["status"] == "active"]
        a, b, c = running[0], running[1], running[2]
        answers["start_running"] = cmd({"type": "start_server", "vm": a})
        answers["lock"] = cmd({"type": "lock_server", "vm": a})
        answers["locked_view"] = vm(a)["vm"]["locked"]
        answers["stop_locked"] = cmd({"type": "stop_server", "vm": a})
        answers["stopped_view"] = vm(a)["vm"]["status"]
        answers["stop_stopped"] = cmd({"type": "stop_server", "vm": a})
        answers["start_stopped"] = cmd({"type": "start_server", "vm": a})
        answers["unlock"] = cmd({"type": "unlock_server", "vm": a})
        answers["evacuate_service_up"] = cmd({"type": "evacuate", "vm": b, "placement": {"type": "any"}})
        answers["lock_b"] = cmd({"type": "lock_server", "vm": b})
        answers["evacuate_locked_service_up"] = cmd({"type": "evacuate", "vm": b, "placement": {"type": "any"}})
        answers["reset_error"] = cmd({"type": "reset_state", "vm": c, "state": "error"})
        answers["error_view"] = vm(c)["vm"]["status"]
        answers["reset_active"] = cmd({"type": "reset_state", "vm": c, "state": "active"})
        answers["active_view"] = vm(c)["vm"]["status"]
        answers["query_missing"] = vm(10**9)
        answers["host_missing"] = call({"type": "query", "query": {"type": "vms_on", "host": 10**9}})
        answers["evacuate_missing"] = cmd({"type": "evacuate", "vm": 10**9, "placement": {"type": "any"}})
        with open(os.path.join(hello["out_dir"], "answers.json"), "w") as f:
            json.dump(answers, f, indent=1, sort_keys=True)
    send({"type": "done"})
