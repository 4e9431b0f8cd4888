"""A tiny stand-in for hasim's side of the external-controller protocol (version 1), for tests.

It is *not* a model of a cloud: a list of hosts and servers, a script of observations, and
Nova's synchronous answers (the refusals of nova/compute/api.py that Masakari depends on:
evacuate needs the source service down and task_state None, start needs stopped, reset_state
clears task_state; a lock never refuses the admin controller, check_instance_lock
api.py:245-251). An evacuation takes `boot_us` and, as in Nova, changes the server's host only
when it ends (resource_tracker.finish_evacuation). It lets the SDK and the upstream Masakari glue
be tested without the Rust side; the integration tests under tests/integration/ run them
against hasim itself.
"""

import heapq
import json
import subprocess


class ControllerCrashed(Exception):
    pass


class FakeHasim:
    def __init__(self, hosts, vms, boot_us=45_000_000, power_us=1_000_000, stop_us=5_000_000,
                 config=None, out_dir="/tmp", scenario="fake", seed=1, replication=0):
        self.hosts = {h["id"]: dict(h) for h in hosts}
        self.vms = {v["id"]: dict(v) for v in vms}
        for v in self.vms.values():
            v.setdefault("locked", False)
            v.setdefault("task_state", None)
        self.boot_us, self.power_us, self.stop_us = boot_us, power_us, stop_us
        self.power = {}  # host -> "on"/"off"/"unknown" as the BMC answers
        self.config = config or {}
        self.out_dir, self.scenario, self.seed, self.replication = (
            out_dir, scenario, seed, replication)
        self._queue = []
        self._seq = 0
        self.now_us = 0
        self.log = []  # (now_us, "command"|"done", command, result)
        self.steps = 0
        self.queries = 0

    # scripting ----------------------------------------------------------------------------
    def at(self, t_us, obs, action=None):
        """Delivers `obs` at `t_us` (after running `action()`, e.g. a truth change)."""
        self._seq += 1
        heapq.heappush(self._queue, (t_us, self._seq, obs, action))

    def crash_host(self, t_us, host, detect_us=20_000_000, fence_us=3_000_000, power="off"):
        """Pacemaker's view of a host crash: node_offline at +20 s, fenced at +23 s."""
        def down():
            self.hosts[host]["node_online"] = False
            self.power[host] = power
        self.at(t_us + detect_us, {"type": "node_offline", "host": host}, down)
        self.at(t_us + detect_us + fence_us, {"type": "fenced", "host": host, "ok": True})

        def service_down():
            self.hosts[host]["service_up"] = False
        # nova-compute is reported down 60 s after its last heartbeat (service_down_time).
        self.at(t_us + 60_000_000, None, service_down)

    def crash_guest(self, t_us, vm):
        """A guest crash: libvirt's STOPPED_FAILED event, and Nova's power-state sync records
        the server as stopped (vm_state STOPPED) at once."""
        self.at(t_us, {"type": "instance_failed", "vm": vm},
                lambda: self.vms[vm].update(status="stopped", task_state=None))

    # Nova's answers -----------------------------------------------------------------------
    def _execute(self, c):
        t = c["type"]
        if t == "set_timer":
            self.at(self.now_us + c["after_us"], {"type": "timer", "token": c["token"]})
            return (True, None, None)
        if "host" in c and t != "evacuate" and c["host"] not in self.hosts:
            return (False, 404, "no host %d" % c["host"])
        if "vm" in c and c["vm"] not in self.vms:
            return (False, 404, "no server %d" % c["vm"])
        if t == "disable_service":
            self.hosts[c["host"]]["disabled"] = True
        elif t == "enable_service":
            self.hosts[c["host"]]["disabled"] = False
        elif t == "force_down":
            self.hosts[c["host"]]["forced_down"] = c["down"]
        elif t == "check_power":
            state = self.power.get(c["host"], "on")
            self.at(self.now_us + self.power_us,
                    {"type": "power_status", "host": c["host"], "state": state})
        elif t in ("lock_server", "unlock_server"):
            self.vms[c["vm"]]["locked"] = t == "lock_server"
        elif t == "reset_state":
            self.vms[c["vm"]].update(status=c["state"], task_state=None)
        elif t == "evacuate":
            return self._evacuate(c)
        elif t == "stop_server":
            v = self.vms[c["vm"]]
            if v["status"] not in ("active", "error") or v["task_state"] is not None:
                return (False, 409, "server %d is %s" % (v["id"], v["status"]))
            v["task_state"] = "powering-off"

            def stopped(v=v):
                v.update(status="stopped", task_state=None)
            self.at(self.now_us + self.stop_us, None, stopped)
        elif t == "start_server":
            v = self.vms[c["vm"]]
            if v["status"] != "stopped" or v["task_state"] is not None:
                return (False, 409, "server %d is %s" % (v["id"], v["status"]))
            v["task_state"] = "powering-on"

            def started(v=v):
                v.update(status="active", task_state=None)
            self.at(self.now_us + self.boot_us, None, started)
        else:
            return (False, 400, "fake hasim does not do %s" % t)
        return (True, None, None)

    def _evacuate(self, c):
        v = self.vms[c["vm"]]
        src = self.hosts[v["host"]]
        if v["status"] not in ("active", "stopped", "error") or v["task_state"] is not None:
            return (False, 409, "server %d task_state %s" % (v["id"], v["task_state"]))
        if src["service_up"] and not src["forced_down"]:
            return (False, 400, "compute service of host %d is still in use" % src["id"])
        p = c["placement"]
        if p["type"] == "host":
            dest = p["host"]
        else:
            ok = [h for h in sorted(self.hosts) if h != src["id"] and self.hosts[h]["service_up"]
                  and not self.hosts[h]["disabled"] and self.hosts[h]["node_online"]]
            dest = ok[0] if ok else None
        v["task_state"] = "rebuilding"
        if dest is None:
            def fail(v=v):
                v.update(status="error", task_state=None)
            self.at(self.now_us, {"type": "evacuate_result", "vm": v["id"], "ok": False,
                                  "host": None, "reason": "NoValidHost"}, fail)
        else:
            def done(v=v, dest=dest):
                v.update(host=dest, status="active", task_state=None)
            self.at(self.now_us + self.boot_us, {"type": "evacuate_result", "vm": v["id"],
                                                 "ok": True, "host": dest, "reason": None},
                    done)
        return (True, None, None)

    def _answer(self, q):
        t = q["type"]
        if t == "hosts":
            return {"type": "answer", "hosts": [self.hosts[h] for h in sorted(self.hosts)]}
        if t == "host":
            if q["host"] not in self.hosts:
                return {"type": "error", "code": 404, "message": "no host %d" % q["host"]}
            return {"type": "answer", "host": self.hosts[q["host"]]}
        if t == "vms_on":
            return {"type": "answer", "vms": [self.vms[v] for v in sorted(self.vms)
                                              if self.vms[v]["host"] == q["host"]]}
        if t == "vm":
            if q["vm"] not in self.vms:
                return {"type": "error", "code": 404, "message": "no server %d" % q["vm"]}
            return {"type": "answer", "vm": self.vms[q["vm"]]}
        if t == "snapshot":
            return {"type": "answer", "snapshot": {
                "hosts": [self.hosts[h] for h in sorted(self.hosts)],
                "vms": [self.vms[v] for v in sorted(self.vms)], "any_evacuable_tagged": False}}
        return {"type": "error", "code": 400, "message": "unknown query %r" % t}

    # the loop -----------------------------------------------------------------------------
    def run(self, command, until_us, stderr=None, cwd=None, env=None):
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=stderr, cwd=cwd, env=env)
        try:
            self._send(proc, {"type": "hello", "protocol": 1, "scenario": self.scenario,
                              "seed": self.seed, "replication": self.replication,
                              "now_us": 0, "restart": 0, "out_dir": self.out_dir,
                              "config": self.config})
            msg = self._recv(proc)
            if msg.get("type") != "ready":
                raise ControllerCrashed("expected ready, got %r" % msg)
            self._run_commands(msg.get("commands", []))
            while self._queue and self._queue[0][0] <= until_us:
                self.now_us = self._queue[0][0]
                observations = []
                while self._queue and self._queue[0][0] == self.now_us:
                    _, _, obs, action = heapq.heappop(self._queue)
                    if action:
                        action()
                    if obs is not None:
                        observations.append(obs)
                if not observations:
                    continue
                self.steps += 1
                self._send(proc, {"type": "step", "now_us": self.now_us,
                                  "observations": observations})
                while True:
                    msg = self._recv(proc)
                    if msg["type"] == "query":
                        self.queries += 1
                        self._send(proc, self._answer(msg["query"]))
                    elif msg["type"] == "command":
                        ok, code, reason = self._execute(msg["command"])
                        self.log.append((self.now_us, "command", msg["command"], ok))
                        self._send(proc, {"type": "result", "ok": True} if ok else
                                   {"type": "result", "ok": False, "code": code,
                                    "reason": reason})
                    elif msg["type"] == "done":
                        self._run_commands(msg["commands"])
                        break
                    else:
                        raise ControllerCrashed("unexpected %r" % msg)
            self._send(proc, {"type": "end", "now_us": until_us})
            proc.stdin.close()
            return proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stdin.close()

    def _run_commands(self, commands):
        for c in commands:
            ok, _, _ = self._execute(c)
            self.log.append((self.now_us, "done", c, ok))

    def _send(self, proc, obj):
        proc.stdin.write(json.dumps(obj).encode() + b"\n")
        proc.stdin.flush()

    def _recv(self, proc):
        line = proc.stdout.readline()
        if not line:
            raise ControllerCrashed("controller exited (status %s)" % proc.wait())
        return json.loads(line)

    def commands(self, kind):
        """(now_us, command) of every accepted command of `kind`, in order."""
        return [(t, c) for t, _, c, ok in self.log if c["type"] == kind and ok]
