"""Runs the real masakari-monitors 22.0.0 hostmonitor (`HandleHost.monitor_hosts`, unmodified)
under virtual time against a simulated Pacemaker cluster, and prints what it notified as JSON.

Usage (in the masakari venv): python hostmonitor_probe.py MODE STONITH IPMI_CHECK
  MODE       remote  — hostmonitor on a pacemaker_remote compute node
                       (pacemaker_node_type = remote, restrict_to_remotes = True: crm_mon -X)
             cluster — hostmonitor on a full cluster member (pacemaker_node_type = cluster,
                       corosync checked with tcpdump, node states from cibadmin --query)
  STONITH    reboot | off   (what fencing leaves the BMC reading: "Chassis Power is on|off")
  IPMI_CHECK on | off       ([host] disable_ipmi_check = False | True)

The simulated machine is only the commands hostmonitor runs (`masakarimonitors.utils.execute`:
systemctl, tcpdump, crmadmin, cibadmin, crm_mon, ipmitool) and the Masakari API client
(`SendNotification._make_client`). Timeline: compute-1 crashes at 100 s (its BMC still reads
"on"); Pacemaker's remote monitor loses it at 120 s and fences it over IPMI at 123 s. With stonith reboot the node is
powered on again and rejoins after its 5-minute boot (423 s); with "off" it stays down. The
monitor polls every 60 s (monitoring_interval) from its start at 0; the run ends at 900 s.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scenarios", "controllers", "masakari_upstream"))
import vtime  # noqa: E402
import vhub  # noqa: E402

vhub.eventlet.monkey_patch(os=False)  # as masakarimonitors/cmd/__init__.py does
vtime.install_clock()
HUB = vhub.install()

import socket  # noqa: E402

MODE, STONITH, IPMI_CHECK = sys.argv[1:4]
ME = "compute-0" if MODE == "remote" else "controller-0"
socket.gethostname = lambda: ME

from masakarimonitors import conf as mconf  # noqa: E402
from masakarimonitors.ha import masakari as ha_masakari  # noqa: E402
from masakarimonitors.hostmonitor.host_handler import handle_host  # noqa: E402

CONF = mconf.CONF
CONF([], project="masakarimonitors", default_config_files=[])
if MODE == "remote":
    CONF.set_override("pacemaker_node_type", "remote", group="host")
    CONF.set_override("restrict_to_remotes", True, group="host")
else:
    CONF.set_override("pacemaker_node_type", "cluster", group="host")
    CONF.set_override("corosync_multicast_interfaces", ["eth0"], group="host")
    CONF.set_override("corosync_multicast_ports", [5405], group="host")
CONF.set_override("disable_ipmi_check", IPMI_CHECK == "off", group="host")

COMPUTES = ["compute-0", "compute-1", "compute-2"]
S = 1_000_000
events = {"commands": [], "exceptions_logged": 0}


def now_s():
    return vtime.CLOCK.now_us / S


def node_online(name):
    if name != "compute-1":
        return True
    t = now_s()
    if t < 120:
        return True
    return STONITH == "reboot" and t >= 423


def power_on(name):
    # A crashed host's BMC reads "on" until it is fenced at 123 s; then "off" for stonith off,
    # and "on" again for stonith reboot (a power cycle of a few seconds, modelled as instant).
    return not (name == "compute-1" and STONITH == "off" and now_s() >= 123)


def crm_mon_xml():
    nodes = ['<node name="controller-0" id="1" online="true" standby="false" type="member"/>']
    for i, c in enumerate(COMPUTES):
        nodes.append('<node name="%s" id="%s" online="%s" standby="false" type="remote"/>'
                     % (c, c, "true" if node_online(c) else "false"))
    return ('<crm_mon version="2.1.5"><summary><current_dc present="true" '
            'with_quorum="true" name="controller-0"/></summary><nodes>%s</nodes></crm_mon>'
            % "".join(nodes))


def cib_xml():
    states = "".join('<node_state id="%s" uname="%s" crmd="%s"/>'
                     % (c, c, "online" if node_online(c) else "offline") for c in COMPUTES)
    prims = "".join(
        '<group id="grp-%s"><primitive id="ipmi-%s" class="stonith" type="external/ipmi">'
        '<instance_attributes id="ia-%s"><nvpair name="hostname" value="%s"/>'
        '<nvpair name="ipaddr" value="10.0.0.%d"/><nvpair name="userid" value="admin"/>'
        '<nvpair name="passwd" value="secret"/><nvpair name="interface" value="lanplus"/>'
        '</instance_attributes></primitive></group>' % (c, c, c, c, i)
        for i, c in enumerate(COMPUTES))
    return ('<cib have-quorum="1"><configuration><resources>%s</resources></configuration>'
            '<status>%s</status></cib>' % (prims, states))


def execute(*cmd, **kwargs):
    line = " ".join(cmd)
    events["commands"].append([now_s(), line.split()[0] if "ipmitool" not in line else line])
    if cmd[0] == "systemctl":
        unit = cmd[-1]
        running = {"remote": {"pacemaker_remote"},
                   "cluster": {"corosync", "pacemaker"}}[MODE]
        if unit in running:
            return ("active (running)", "")
        raise RuntimeError("Unit %s could not be found." % unit)
    if cmd[0] == "timeout" and "tcpdump" in cmd:
        return ("1 packet captured", "")
    if cmd[0] == "crmadmin":
        return ("Status of crmd@%s: S_NOT_DC (ok)" % ME, "")
    if cmd[0] == "cibadmin":
        return (cib_xml(), "")
    if cmd[0] == "crm_mon":
        return (crm_mon_xml(), "")
    if cmd[0] == "timeout" and "ipmitool" in cmd:
        host = {"10.0.0.%d" % i: c for i, c in enumerate(COMPUTES)}[cmd[cmd.index("-H") + 1]]
        return ("Chassis Power is %s" % ("on" if power_on(host) else "off"), "")
    raise RuntimeError("probe: unexpected command %r" % (line,))


handle_host.utils.execute = execute


class FakeMasakariClient:
    def create_notification(self, type, hostname, generated_time, payload):
        events.setdefault("notifications", []).append(
            {"t": now_s(), "type": type, "hostname": hostname, "payload": payload})
        return {"notification": "accepted"}


ha_masakari.SendNotification._make_client = lambda self: FakeMasakariClient()

_exception = handle_host.LOG.exception


def counting_exception(msg, *args, **kwargs):
    events["exceptions_logged"] += 1
    events.setdefault("first_exception", "%s" % (args[0] if args else msg))
    return _exception(msg, *args, **kwargs)


handle_host.LOG.exception = counting_exception

monitor = handle_host.HandleHost()
vhub.eventlet.spawn_n(monitor.monitor_hosts)
HUB.run_now()
while True:
    due = HUB.next_deadline_us()
    if due is None or due > 900 * S:
        break
    vtime.CLOCK.set(due)
    HUB.run_now()
events.setdefault("notifications", [])
events["polls"] = sum(1 for _, c in events["commands"] if c in ("crm_mon", "cibadmin"))
del events["commands"]
sys.stdout.write(json.dumps(events) + "\n")
