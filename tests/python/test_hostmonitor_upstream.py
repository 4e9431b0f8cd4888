"""Does masakari-monitors' real hostmonitor notify under stonith reboot? (issue 8)

Runs tests/python/hostmonitor_probe.py (the unmodified masakari-monitors 22.0.0 hostmonitor
under virtual time, simulated crm_mon/cibadmin/ipmitool) in the masakari venv. Expected
outcomes follow from the code, masakarimonitors/hostmonitor/host_handler/handle_host.py:
- remote mode (restrict_to_remotes = True): node states come from `crm_mon -X`, but
  `_is_poweroff` looks the IPMI parameters up in the CIB parser (parse_cib_xml
  .get_stonith_ipmi_params), which only the cibadmin path ever fills: `list(None)` raises
  TypeError, `monitor_hosts` logs "Exception caught" and, since the status holder was not
  updated, the next poll fails the same way. No STOPPED notification, ever, whatever the
  power state — unless disable_ipmi_check = True.
- cluster mode (cibadmin): at the 120 s poll the BMC still reads "on" (fencing is at 123 s);
  retried 3 times 10 s apart (ipmi_retry_max/interval). stonith off → "Power is off" at the
  130 s retry → NORMAL. stonith reboot → still "on" → UNKNOWN at 150 s, which the engine
  ignores (masakari/engine/manager.py:185-193).
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_masakari_upstream import HAVE_VENV, PYTHON  # noqa: E402


def probe(mode, stonith, ipmi_check):
    p = subprocess.run([PYTHON, "-W", "ignore", os.path.join(HERE, "hostmonitor_probe.py"),
                        mode, stonith, ipmi_check], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    return json.loads(p.stdout)


def stopped(result):
    return [(n["t"], n["payload"]["host_status"]) for n in result["notifications"]
            if n["payload"]["event"] == "STOPPED"]


@unittest.skipUnless(HAVE_VENV, "no masakari venv")
class HostMonitor(unittest.TestCase):
    def test_remote_mode_with_the_ipmi_check_never_notifies(self):
        for stonith in ("reboot", "off"):
            r = probe("remote", stonith, "on")
            self.assertEqual(r["notifications"], [], stonith)
            self.assertIn("'NoneType' object is not iterable", r["first_exception"])
            # One exception per poll while the node is offline: 120..420 s under reboot
            # (it rejoins at 423 s), 120..900 s under off.
            self.assertEqual(r["exceptions_logged"], 6 if stonith == "reboot" else 14)

    def test_remote_mode_without_the_ipmi_check_notifies_at_the_first_poll(self):
        for stonith in ("reboot", "off"):
            self.assertEqual(stopped(probe("remote", stonith, "off")), [(120.0, "NORMAL")])

    def test_cluster_mode_reads_the_power_state(self):
        self.assertEqual(stopped(probe("cluster", "off", "on")), [(130.0, "NORMAL")])
        self.assertEqual(stopped(probe("cluster", "reboot", "on")), [(150.0, "UNKNOWN")])


if __name__ == "__main__":
    unittest.main()
