"""What masakari-monitors would send Masakari's API, computed from hasim's observations.

In production the notification comes from masakari-monitors, not from Nova. This module models
the two monitors with their defaults (masakari-monitors 22.0.0); it is our model, not their code
(tests/python/test_hostmonitor_upstream.py runs the real hostmonitor against crm_mon output):

hostmonitor (masakarimonitors/hostmonitor/host_handler/handle_host.py): every
`monitoring_interval` = 60 s (conf/host.py:21) it reads the Pacemaker node states; with
`monitoring_samples` = 1 (conf/host.py:24) a changed state counts at the first poll that sees it.
Polls are at whole multiples of the interval from the start (the monitor's phase is arbitrary in
production; the Rust policy uses the same grid). On online → offline it runs `ipmitool power
status` (`_is_poweroff`): "Power is off" → host_status NORMAL; anything else is retried
`ipmi_retry_max` = 3 times `ipmi_retry_interval` = 10 s apart (conf/host.py:59-63), then
UNKNOWN. `disable_ipmi_check` = True skips the check (NORMAL). It then sends
{type: COMPUTE_HOST, hostname, generated_time, payload: {event: STOPPED, cluster_status:
OFFLINE, host_status}} (`_make_event`). On offline → online it sends event STARTED,
cluster_status ONLINE, host_status NORMAL.
`restrict_to_remotes` = True (conf/host.py:52, default False) reads the node states from
`crm_mon -X` instead of the CIB; with the IPMI check on, `_is_poweroff` then fails on every
poll (the CIB it looks the IPMI parameters up in was never read: TypeError, logged by
`monitor_hosts`, status not recorded) and no STOPPED notification is ever sent — the real
hostmonitor does this in tests/python/test_hostmonitor_upstream.py. Here hasim's `node_offline` / `node_online` are the
state changes and `check_power` / `power_status` are the IPMI calls (hasim's BMC answer time
replaces ipmitool's).

instancemonitor (masakarimonitors/instancemonitor/libvirt_handler): a libvirt lifecycle event
STOPPED_FAILED is sent at once as {type: VM, hostname, generated_time, payload: {event: LIFECYCLE,
instance_uuid, vir_domain_event: STOPPED_FAILED}}; hasim's `instance_failed` is that event.
"""

import hasim_controller as hc

from fake_nova import uuid_of


class HostMonitor:
    def __init__(self, config):
        self.interval_us = int(config.get("monitoring_interval", 60)) * 1_000_000
        self.disable_ipmi_check = bool(config.get("disable_ipmi_check", False))
        self.retry_max = int(config.get("ipmi_retry_max", 3))
        self.retry_interval_us = int(config.get("ipmi_retry_interval", 10)) * 1_000_000
        self.restrict_to_remotes = bool(config.get("restrict_to_remotes", False))
        self.failed_polls = 0  # polls that died in _is_poweroff (restrict_to_remotes)
        self.status = {}  # host -> "online"/"offline" as the monitor last recorded it
        self.changed = set()  # hosts whose state changed since the last poll
        self.poll_armed = False
        self.ipmi_retries = {}  # host -> retries done in the current check

    def on_change(self, ctl, host, now_us):
        self.changed.add(host)
        if not self.poll_armed:
            self.poll_armed = True
            after = (now_us // self.interval_us + 1) * self.interval_us - now_us
            ctl.set_timer(after, self.poll)

    def poll(self, now_us, inv):
        self.poll_armed = False
        out = []
        retry = []
        for host in sorted(self.changed):
            view = inv.host(host)
            current = "online" if view["node_online"] else "offline"
            if self.status.get(host, "online") == current:
                continue
            if current == "offline" and self.restrict_to_remotes and not self.disable_ipmi_check:
                # The poll raises before the new status is recorded: the next one retries.
                self.failed_polls += 1
                retry.append(host)
                continue
            self.status[host] = current
            if current == "online":
                self.ctl.send_host_event(view["name"], "STARTED", "ONLINE", "NORMAL")
            elif self.disable_ipmi_check:
                self.ctl.send_host_event(view["name"], "STOPPED", "OFFLINE", "NORMAL")
            else:
                self.ipmi_retries[host] = 0
                out.append(hc.check_power(host))
        self.changed.clear()
        for host in retry:
            self.on_change(self.ctl, host, now_us)
        return out

    def on_power(self, ctl, inv, host, state):
        if host not in self.ipmi_retries:
            return []
        name = inv.host(host)["name"]
        if state == "off":
            del self.ipmi_retries[host]
            ctl.send_host_event(name, "STOPPED", "OFFLINE", "NORMAL")
            return []
        if self.ipmi_retries[host] < self.retry_max:
            self.ipmi_retries[host] += 1
            ctl.set_timer(self.retry_interval_us, lambda now, inv: [hc.check_power(host)])
            return []
        del self.ipmi_retries[host]
        ctl.send_host_event(name, "STOPPED", "OFFLINE", "UNKNOWN")
        return []


def vm_event(host_name, vm_id, generated_time):
    return {"type": "VM", "hostname": host_name, "generated_time": generated_time, "payload": {
        "event": "LIFECYCLE", "instance_uuid": uuid_of(vm_id),
        "vir_domain_event": "STOPPED_FAILED"}}
