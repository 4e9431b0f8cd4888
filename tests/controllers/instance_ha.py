"""Red Hat Instance HA's decisions as src/policy/instance_ha.rs makes them, as an external
controller over hasim's protocol (stdlib only). The integration tests run a scenario with it
and with the built-in policy and compare the results: the protocol must not change a decision.

Test hooks, from `[policy.config]`: `fail_at_step = N` makes step N (1-based) go wrong in the
way `fail_mode` says: "exit" (the process exits 3), "garbage" (a line that is not JSON),
"bad_field" (a `done` line with an unknown field), "hang" (no answer, ever).

Evacuations go out as `command` lines, so Nova's synchronous answer (400 ComputeServiceInUse)
reaches the controller at once, as the built-in policy's failed result does."""
import json
import sys

T_MONITOR = 1


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


class InstanceHa:
    def __init__(self, cfg):
        self.interval = cfg.get("monitor_interval_us", 10_000_000)
        self.filtering = cfg.get("instance_filtering", True)
        self.evacuate = {}  # host -> True (yes) / False (no)
        self.monitor_armed = False
        self.unfence_pending = set()
        self.issued = {}
        self.tagged = None  # whether any flavor is tagged evacuable: static, read once

    def arm_monitor(self, now, out):
        if not self.monitor_armed:
            self.monitor_armed = True
            i = max(self.interval, 1)
            out.append({"type": "set_timer", "token": T_MONITOR, "after_us": (now // i + 1) * i - now})

    def try_unfence(self, host, out):
        if host in self.unfence_pending and self.evacuate.get(host) is not True:
            self.unfence_pending.discard(host)
            self.evacuate.pop(host, None)
            out.append({"type": "force_down", "host": host, "down": False})
            out.append({"type": "enable_service", "host": host})

    def flush(self, out):
        """Runs `out` now, in order (the built-in policy's commands run before its next
        observation)."""
        for c in out:
            r = call({"type": "command", "command": c})
            if c["type"] == "evacuate" and not r["ok"] and "ComputeServiceInUse" in r.get("reason", ""):
                host = self.issued.pop(c["vm"], None)
                if host is not None:
                    self.evacuate[host] = True
                    more = []
                    self.arm_monitor(self.now, more)
                    self.flush(more)
        out.clear()

    def observe(self, now, o):
        self.now = now
        out = []
        t = o["type"]
        if t == "fenced" and o["ok"]:
            h = o["host"]
            out += [{"type": "force_down", "host": h, "down": True}, {"type": "disable_service", "host": h}]
            self.evacuate[h] = True
            self.arm_monitor(now, out)
        elif t == "timer" and o["token"] == T_MONITOR:
            self.monitor_armed = False
            for host in sorted(h for h, yes in self.evacuate.items() if yes):
                vms = call({"type": "query", "query": {"type": "vms_on", "host": host}})["vms"]
                if self.tagged is None:
                    snap = call({"type": "query", "query": {"type": "snapshot"}})["snapshot"]
                    self.tagged = snap["any_evacuable_tagged"]
                filt = self.filtering and self.tagged
                for vm in vms:
                    if not filt or vm["evacuable"]:
                        self.issued[vm["id"]] = host
                        out.append({"type": "evacuate", "vm": vm["id"], "placement": {"type": "any"}})
                self.evacuate[host] = False
                self.try_unfence(host, out)
        elif t == "evacuate_result":
            host = self.issued.pop(o["vm"], None)
            if host is not None and not o["ok"] and o.get("reason") == "ComputeServiceInUse":
                self.evacuate[host] = True
                self.arm_monitor(now, out)
        elif t == "node_online" and o["host"] in self.evacuate:
            self.unfence_pending.add(o["host"])
            self.try_unfence(o["host"], out)
        self.flush(out)


def fail(mode):
    if mode == "exit":
        sys.exit(3)
    if mode == "garbage":
        sys.stdout.write("Traceback (most recent call last): oops\n")
        sys.stdout.flush()
    elif mode == "bad_field":
        send({"type": "done", "comands": []})
    elif mode == "hang":
        import time
        time.sleep(3600)
    # Then wait for hasim to close the pipe.
    sys.stdin.read()
    sys.exit(0)


def main():
    hello = recv()
    assert hello["type"] == "hello" and hello["protocol"] == 1, hello
    cfg = hello["config"]
    policy = InstanceHa(cfg)
    fail_at = cfg.get("fail_at_step", 0) if hello["restart"] == 0 else 0
    send({"type": "ready"})
    steps = 0
    while True:
        m = recv()
        if m["type"] == "end":
            return
        steps += 1
        if steps == fail_at:
            fail(cfg.get("fail_mode", "exit"))
        for o in m["observations"]:
            policy.observe(m["now_us"], o)
        send({"type": "done"})


main()
