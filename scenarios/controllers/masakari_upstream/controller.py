#!/usr/bin/env python3
"""Upstream Masakari in the loop: hasim drives the unmodified masakari==22.0.0 engine.

Run by hasim as `[policy] name = "external"`, `command = [<venv python>, "controllers/
masakari_upstream/controller.py"]` (the venv is made by scenarios/controllers/setup-masakari.sh).
Per step: the observations go to the monitor model (monitors.py), whose notifications go
through Masakari's own API code into its engine (engine.py); then every green thread due at
this instant runs (vhub.VirtualHub.run_now) — Masakari's flows call Nova, which is hasim
(fake_nova.py) — and the controller asks hasim to wake it at the hub's next deadline.

[policy.config] keys (all optional):
  recovery_method = "auto" | "reserved_host" | "auto_priority" | "rh_priority"  (segment's)
  clear_maintenance_on_host_return = false   what-if operator (not Masakari): when a node is back
      and no notification of it is open, clear on_maintenance and enable nova-compute
  log_level = "WARNING"                      Masakari's log level (stderr → hasim's log file)
  [policy.config.masakari]   Masakari options, e.g. wait_period_after_service_update = 180
  [policy.config.hostmonitor] monitoring_interval, disable_ipmi_check, ipmi_retry_max,
                               ipmi_retry_interval (masakari-monitors [host] options)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import vtime  # noqa: E402
import vhub  # noqa: E402

# As masakari/cmd/__init__.py:18 does for the engine, except `os`: eventlet's green waitpid polls
# with 10 ms sleeps, which under virtual time would move the clock.
vhub.eventlet.monkey_patch(os=False)
vtime.install_clock()  # after eventlet's patches, before oslo / masakari are imported
HUB = vhub.install()

import hasim_controller as hc  # noqa: E402

import engine  # noqa: E402
import fake_nova  # noqa: E402
import monitors  # noqa: E402

#: Raw timer token for "the hub has something due" (SDK tokens are >= 2**62).
HUB_TOKEN = 1

CONFIG_KEYS = {"recovery_method", "clear_maintenance_on_host_return", "log_level", "masakari",
               "hostmonitor"}


class MasakariUpstream(hc.Controller):
    def __init__(self):
        super().__init__()
        self.clock = vtime.CLOCK
        self.wakes = set()  # instants at which a HUB_TOKEN timer is pending
        self.engine = None

    def on_start(self, hello):
        cfg = self.config
        unknown = sorted(set(cfg) - CONFIG_KEYS)
        if unknown:
            raise hc.ProtocolError("policy.config: unknown keys %s (known: %s)"
                                   % (unknown, ", ".join(sorted(CONFIG_KEYS))))
        self.recovery_method = cfg.get("recovery_method", "auto")
        self.operator_clears = bool(cfg.get("clear_maintenance_on_host_return", False))
        self.monitor = monitors.HostMonitor(cfg.get("hostmonitor", {}))
        self.monitor.ctl = self
        self.engine = engine.Engine(hello["out_dir"], cfg.get("masakari", {}), hello["seed"],
                                    hello["replication"], cfg.get("log_level", "WARNING"))
        self.segment = False
        return []

    def on_step(self, now_us, observations, inv):
        fake_nova.BRIDGE.inventory = inv
        self.wakes.discard(now_us)
        try:
            if not self.segment:
                hosts = inv.hosts()
                fake_nova.BRIDGE.set_hosts(hosts)
                self.engine.create_segment(hosts, self.recovery_method)
                self.segment = True
            out = super().on_step(now_us, observations, inv)
            HUB.run_now()
            if self.engine.errors:
                # A failure of this glue (not of Masakari's flows, which handle their own):
                # stop, so that hasim reports a crashed controller instead of a quiet one.
                raise RuntimeError("masakari glue failed: %s" % self.engine.errors[0])
        finally:
            fake_nova.BRIDGE.inventory = None
        due = HUB.next_deadline_us()
        if due is not None and (not self.wakes or due < min(self.wakes)):
            self.wakes.add(due)
            out.append(hc.set_timer(HUB_TOKEN, due - now_us))
        return out

    def on_observation(self, now_us, obs, inv):
        kind = obs["type"]
        if kind == "node_offline":
            self.monitor.on_change(self, obs["host"], now_us)
        elif kind == "node_online":
            self.monitor.on_change(self, obs["host"], now_us)
            return self.operator(inv, obs["host"])
        elif kind == "power_status":
            return self.monitor.on_power(self, inv, obs["host"], obs["state"])
        elif kind == "instance_failed":
            vm = inv.vm(obs["vm"])
            self.engine.notify(monitors.vm_event(fake_nova.BRIDGE.host_names[vm["host"]],
                                                 vm["id"], self.clock.utcnow()))
        # fenced, evacuate_result, migrate_result, node_failed: Masakari does not read them
        # (it polls Nova); timer HUB_TOKEN: on_step runs the hub anyway.
        return []

    def send_host_event(self, name, event, cluster_status, host_status):
        self.engine.notify({"type": "COMPUTE_HOST", "hostname": name,
                            "generated_time": self.clock.utcnow(),
                            "payload": {"event": event, "cluster_status": cluster_status,
                                        "host_status": host_status}})

    def operator(self, inv, host):
        if not self.operator_clears:
            return []
        name = fake_nova.BRIDGE.host_names[host]
        if not self.engine.host_record(name).on_maintenance or self.engine.host_busy(name):
            return []
        self.engine.clear_maintenance(name)
        return [hc.enable_service(host)]


if __name__ == "__main__":
    hc.main(MasakariUpstream())
