"""Example controller written with the SDK: evacuate as soon as Pacemaker has fenced a host.

Masakari waits a fixed 180 s after disabling the service "until nova recognizes the node down"
(masakari/engine/drivers/taskflow/host_failure.py:59). Once the node is fenced there is nothing
left to wait for: forcing the service down (os-services forced_down, API >= 2.11) makes Nova
accept evacuations at once, as Red Hat's fence_compute does. This controller does that, retries
a failed evacuation `retries` times `retry_after_s` apart, and gives the host back when its node
returns. Config ([policy.config]): retries (default 2), retry_after_s (default 30) — what-if
values of this example, not production defaults.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hasim_controller as hc  # noqa: E402


class EvacuateAfterFence(hc.Controller):
    def on_start(self, hello):
        self.retries = int(self.config.get("retries", 2))
        self.retry_after_us = int(self.config.get("retry_after_s", 30)) * 1_000_000
        self.attempts = {}  # server -> evacuations issued for it

    def on_observation(self, now_us, obs, inv):
        kind = obs["type"]
        if kind == "fenced" and obs["ok"]:
            host = obs["host"]
            out = [hc.force_down(host, True), hc.disable_service(host)]
            for vm in inv.vms_on(host):
                self.attempts[vm["id"]] = 1
                out.append(hc.evacuate(vm["id"]))
            return out
        if kind == "evacuate_result" and not obs["ok"]:
            vm = obs["vm"]
            if self.attempts.get(vm, 0) <= self.retries:
                self.set_timer(self.retry_after_us, self.retry, vm)
        if kind == "node_online":
            return [hc.force_down(obs["host"], False), hc.enable_service(obs["host"])]
        return []

    def retry(self, now_us, inv, vm):
        server = inv.vm(vm)
        if server["task_state"] is not None or not inv.host(server["host"])["forced_down"]:
            return []  # moving already, or its host came back
        self.attempts[vm] += 1
        return [hc.evacuate(vm)]


if __name__ == "__main__":
    hc.main(EvacuateAfterFence())
