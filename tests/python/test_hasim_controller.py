"""Unit tests of the SDK (scenarios/controllers/hasim_controller.py) without hasim.

Run: python3 -m unittest discover -s tests/python -v   (stdlib only)
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CONTROLLERS = os.path.join(HERE, "..", "..", "scenarios", "controllers")
sys.path.insert(0, CONTROLLERS)
sys.path.insert(0, HERE)

import hasim_controller as hc  # noqa: E402
from fake_hasim import FakeHasim  # noqa: E402

HELLO = {"type": "hello", "protocol": 1, "scenario": "t", "seed": 1, "replication": 0,
         "now_us": 0, "restart": 0, "out_dir": "/tmp", "config": {"k": 3}}


def lines(*objs):
    return io.BytesIO(b"".join(json.dumps(o).encode() + b"\n" for o in objs))


def sent(wfile):
    return [json.loads(x) for x in wfile.getvalue().splitlines()]


class Recorder(hc.Controller):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_observation(self, now_us, obs, inv):
        self.seen.append((now_us, obs["type"]))
        if obs["type"] == "node_offline":
            return [hc.check_power(obs["host"])]
        return []


class Protocol(unittest.TestCase):
    def test_hello_step_end(self):
        c = Recorder()
        out = io.BytesIO()
        c.run(lines(HELLO,
                    {"type": "step", "now_us": 5, "observations": [
                        {"type": "node_offline", "host": 2}, {"type": "timer", "token": 9}]},
                    {"type": "end", "now_us": 10}), out)
        self.assertEqual(sent(out), [
            {"type": "ready", "commands": []},
            {"type": "done", "commands": [{"type": "check_power", "host": 2}]}])
        self.assertEqual(c.seen, [(5, "node_offline"), (5, "timer")], "hasim's order")
        self.assertEqual(c.config, {"k": 3})
        self.assertEqual(c.clock.now_us, 10)

    def test_queries_are_answered_in_the_step_and_cached_until_a_command(self):
        class Q(hc.Controller):
            def on_observation(self, now_us, obs, inv):
                a = inv.vms_on(1)
                b = inv.vms_on(1)  # cached: no second query
                inv.execute(hc.lock_server(a[0]["id"]))
                inv.vms_on(1)  # a command ran: asked again
                return [hc.evacuate(b[0]["id"], host=4)]
        vm = {"id": 7, "host": 1}
        out = io.BytesIO()
        Q().run(lines(HELLO, {"type": "step", "now_us": 1,
                              "observations": [{"type": "node_online", "host": 1}]},
                      {"type": "answer", "vms": [vm]}, {"type": "result", "ok": True},
                      {"type": "answer", "vms": [vm]}, {"type": "end", "now_us": 2}), out)
        msgs = sent(out)
        self.assertEqual([m["type"] for m in msgs],
                         ["ready", "query", "command", "query", "done"])
        self.assertEqual(msgs[-1]["commands"],
                         [{"type": "evacuate", "vm": 7,
                           "placement": {"type": "host", "host": 4}}])

    def test_refused_command_and_404(self):
        got = {}

        class R(hc.Controller):
            def on_observation(self, now_us, obs, inv):
                try:
                    inv.execute(hc.stop_server(3))
                except hc.CommandRefused as e:
                    got["refused"] = (e.code, e.reason)
                try:
                    inv.vm(99)
                except hc.NotFound as e:
                    got["404"] = str(e)
        R().run(lines(HELLO, {"type": "step", "now_us": 1,
                              "observations": [{"type": "instance_failed", "vm": 3}]},
                      {"type": "result", "ok": False, "code": 409, "reason": "locked"},
                      {"type": "error", "code": 404, "message": "no server 99"},
                      {"type": "end", "now_us": 2}), io.BytesIO())
        self.assertEqual(got, {"refused": (409, "locked"), "404": "no server 99"})

    def test_sdk_timers_call_back_and_raw_timers_reach_on_observation(self):
        fired = []

        class T(hc.Controller):
            def on_observation(self, now_us, obs, inv):
                if obs["type"] == "node_offline":
                    self.token = self.set_timer(180_000_000, self.later, obs["host"])
                    self.set_timer(5, self.never)
                    self.cancel_timer(self.token + 1)
                else:
                    fired.append(("raw", obs["token"]))

            def later(self, now_us, inv, host):
                fired.append(("cb", now_us, host))
                return [hc.disable_service(host)]

            def never(self, now_us, inv):
                raise AssertionError("cancelled")
        c = T()
        out = io.BytesIO()
        c.run(lines(HELLO, {"type": "step", "now_us": 10,
                            "observations": [{"type": "node_offline", "host": 4}]},
                    {"type": "step", "now_us": 15, "observations": [
                        {"type": "timer", "token": hc.SDK_TOKEN_BASE + 1}]},
                    {"type": "step", "now_us": 180_000_010, "observations": [
                        {"type": "timer", "token": hc.SDK_TOKEN_BASE},
                        {"type": "timer", "token": 77}]},
                    {"type": "end", "now_us": 200_000_000}), out)
        msgs = sent(out)
        self.assertEqual(msgs[1]["commands"], [
            {"type": "set_timer", "token": hc.SDK_TOKEN_BASE, "after_us": 180_000_000},
            {"type": "set_timer", "token": hc.SDK_TOKEN_BASE + 1, "after_us": 5}])
        self.assertEqual(msgs[3]["commands"], [{"type": "disable_service", "host": 4}])
        self.assertEqual(fired, [("cb", 180_000_010, 4), ("raw", 77)])

    def test_protocol_errors_name_the_line(self):
        cases = [
            (b'{"type":"hello","protocol":2,"scenario":"t","seed":1,"replication":0,'
             b'"now_us":0,"restart":0,"out_dir":"/","config":{}}\n', "protocol 2"),
            (b"not json\n", "input line 1: not JSON"),
            (json.dumps(dict(HELLO, extra=1)).encode() + b"\n", "unknown fields ['extra']"),
            (json.dumps(HELLO).encode() + b"\n" + json.dumps(
                {"type": "step", "now_us": 1,
                 "observations": [{"type": "node_gone", "host": 1}]}).encode() + b"\n",
             "input line 2: unknown observation"),
            (json.dumps(HELLO).encode() + b"\n", "input line 2: hasim closed the pipe"),
            (json.dumps(HELLO).encode() + b"\n" + json.dumps(
                {"type": "step", "now_us": 1,
                 "observations": [{"type": "fenced", "host": 1}]}).encode() + b"\n",
             "fenced observation has fields"),
        ]
        for data, want in cases:
            with self.assertRaises(hc.ProtocolError) as cm:
                Recorder().run(io.BytesIO(data), io.BytesIO())
            self.assertIn(want, str(cm.exception))

    def test_time_never_goes_backwards(self):
        with self.assertRaises(hc.ProtocolError):
            Recorder().run(lines(HELLO, {"type": "step", "now_us": 9, "observations": []},
                                 {"type": "step", "now_us": 8, "observations": []}),
                           io.BytesIO())

    def test_main_exits_2_on_a_protocol_error_with_the_message(self):
        p = subprocess.run([sys.executable, os.path.join(CONTROLLERS,
                                                          "evacuate_after_fence.py")],
                           input=b"garbage\n", capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"protocol error: input line 1: not JSON", p.stderr)

    def test_clock(self):
        c = hc.VirtualClock()
        c.set(90_500_000)
        self.assertEqual(c.monotonic(), 90.5)
        self.assertEqual(c.time(), hc.VirtualClock.DEFAULT_EPOCH_S + 90.5)
        self.assertEqual(c.utcnow().isoformat(), "2026-01-01T00:01:30.500000")

    def test_builders_reject_nonsense(self):
        with self.assertRaises(ValueError):
            hc.reset_state(1, "stopped")
        with self.assertRaises(ValueError):
            hc.evacuate(1, host=2, fault_domain=3)
        with self.assertRaises(ValueError):
            hc.set_timer(1, -1)


def fleet(n_hosts=4, vms_on_0=4):
    hosts = [{"id": h, "name": "compute-%d" % h, "fault_domain": h % 3, "service_up": True,
              "disabled": False, "forced_down": False, "node_online": True, "reserved": False}
             for h in range(n_hosts)]
    vms = [{"id": v, "host": 0, "status": "active", "ha_enabled": True, "evacuable": False,
            "fault_domain": 0} for v in range(vms_on_0)]
    return hosts, vms


class ExampleController(unittest.TestCase):
    """evacuate_after_fence.py against the fake: evacuations at the fence instant (T+23 s)."""

    def run_example(self, sim):
        with tempfile.TemporaryFile() as err:
            status = sim.run([sys.executable,
                              os.path.join(CONTROLLERS, "evacuate_after_fence.py")],
                             until_us=4_000_000_000, stderr=err)
            err.seek(0)
            self.assertEqual(status, 0, err.read().decode())

    def test_evacuates_at_the_fence(self):
        hosts, vms = fleet()
        sim = FakeHasim(hosts, vms)
        sim.crash_host(3_600_000_000, 0)
        self.run_example(sim)
        t_fence = 3_600_000_000 + 23_000_000
        evac = sim.commands("evacuate")
        self.assertEqual([t for t, _ in evac], [t_fence] * 4)
        self.assertEqual([c["vm"] for _, c in evac], [0, 1, 2, 3])
        self.assertEqual(sim.commands("force_down")[0], (t_fence, {
            "type": "force_down", "host": 0, "down": True}))
        self.assertTrue(all(sim.vms[v]["host"] == 1 for v in range(4)))

    def test_retries_a_failed_evacuation_after_retry_after_s(self):
        # No valid host at the fence (the others are disabled); one is enabled 10 s later:
        # every server is evacuated again 30 s after its failure, once (retries = 1).
        hosts, vms = fleet()
        for h in hosts[1:]:
            h["disabled"] = True
        sim = FakeHasim(hosts, vms, config={"retries": 1, "retry_after_s": 30})
        sim.crash_host(3_600_000_000, 0)
        t_fence = 3_600_000_000 + 23_000_000
        sim.at(t_fence + 10_000_000, None, lambda: sim.hosts[2].update(disabled=False))
        self.run_example(sim)
        evac = [t for t, _ in sim.commands("evacuate")]
        self.assertEqual(evac, [t_fence] * 4 + [t_fence + 30_000_000] * 4)
        self.assertTrue(all(sim.vms[v]["host"] == 2 for v in range(4)))

    def test_without_force_down_nova_refuses_and_nothing_moves(self):
        # The test checks the example's reason to exist: the same evacuations without
        # force_down are refused by Nova (source service still up 23 s after the crash).
        hosts, vms = fleet()
        sim = FakeHasim(hosts, vms)
        sim.now_us = 23_000_000
        ok, code, _ = sim._execute(hc.evacuate(0))
        self.assertEqual((ok, code), (False, 400))


if __name__ == "__main__":
    unittest.main()
