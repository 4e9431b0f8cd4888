"""Upstream masakari==22.0.0 (scenarios/controllers/masakari_upstream/) against the fake hasim.

Needs the venv of scenarios/controllers/setup-masakari.sh (target/masakari-venv, or
$HASIM_MASAKARI_VENV). Without it the tests are skipped with a loud message — except under CI
(HASIM_CI=1, set by .ci/run after it built the venv), where a missing venv is a failure.
Expected instants are computed from Masakari's and masakari-monitors' defaults, not recorded:
host crash at T, Pacemaker sees it at T+20 s (the fake's script), the host monitor's next 60 s
poll at T+60 s, IPMI answers in 1 s (T+61 s: notification, disable), 180 s
wait_period_after_service_update (T+241 s), 3 threads, each rebuild 45 s, confirmed at the first
1 s poll that sees the new host (T+286 s), the fourth server then (T+331 s).
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scenarios", "controllers"))

from fake_hasim import FakeHasim  # noqa: E402
from test_hasim_controller import fleet  # noqa: E402

VENV = os.environ.get("HASIM_MASAKARI_VENV", os.path.join(ROOT, "target", "masakari-venv"))
PYTHON = os.path.join(VENV, "bin", "python")
CONTROLLER = os.path.join(ROOT, "scenarios", "controllers", "masakari_upstream", "controller.py")
HAVE_VENV = os.path.exists(PYTHON)
if not HAVE_VENV:
    if os.environ.get("HASIM_CI") == "1":
        raise RuntimeError("HASIM_CI=1 but %s is missing: run scenarios/controllers/"
                           "setup-masakari.sh" % PYTHON)
    sys.stderr.write("\n!!! SKIPPING upstream Masakari tests: no venv at %s\n!!! run "
                     "scenarios/controllers/setup-masakari.sh\n\n" % VENV)

T = 3_600_000_000
S = 1_000_000


def run(sim, until_us=T + 3600 * S):
    out = tempfile.mkdtemp(prefix="hasim-mk-")
    sim.out_dir = out
    with open(os.path.join(out, "stderr.log"), "wb") as err:
        status = sim.run([PYTHON, CONTROLLER], until_us=until_us, stderr=err)
    with open(os.path.join(out, "stderr.log"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    assert status == 0, log[-3000:]
    return out, log


def rel_s(cmds):
    return [(t - T) / S for t, _ in cmds]


def notifications(out):
    db = sqlite3.connect(os.path.join(out, "masakari.db"))
    return [r for r in db.execute("select type, status, payload from notifications order by id")]


@unittest.skipUnless(HAVE_VENV, "no masakari venv")
class HostFailure(unittest.TestCase):
    def crash(self, config=None, power="off", vms=4):
        hosts, servers = fleet(4, vms)
        sim = FakeHasim(hosts, servers, config=config or {"masakari": {
            "notification_delay_max": 0}})
        sim.crash_host(T, 0, power=power)
        return sim

    def test_timeline_lock_order_and_confirmation(self):
        sim = self.crash()
        out, _ = run(sim)
        self.assertEqual(rel_s(sim.commands("check_power")), [60])
        self.assertEqual(rel_s(sim.commands("disable_service")), [61])
        evac = sim.commands("evacuate")
        self.assertEqual(rel_s(evac), [241, 241, 241, 286])
        # Nova lists a host's servers newest first (created_at desc, id desc); Masakari stores
        # one VMove each and reads them back created_at desc, id desc: the list reversed.
        self.assertEqual([c["vm"] for _, c in evac], [0, 1, 2, 3])
        locks = sim.commands("lock_server")
        self.assertEqual([(t, c["vm"]) for t, c in locks], [(t, c["vm"]) for t, c in evac],
                         "each server locked just before its evacuation")
        unlocks = sim.commands("unlock_server")
        self.assertEqual(rel_s(unlocks), [286, 286, 286, 331],
                         "unlocked when its new host shows (the rebuild end)")
        self.assertTrue(all(sim.vms[v]["host"] != 0 and not sim.vms[v]["locked"]
                            for v in range(4)))
        self.assertEqual([n[:2] for n in notifications(out)], [("COMPUTE_HOST", "finished")])

    def test_non_ha_servers_go_first_because_vmoves_are_read_back_newest_first(self):
        # PrepareHAEnabledInstancesTask lists HA_Enabled servers first, then the others
        # (evacuate_all_instances), and stores a VMove for each in that order
        # (host_failure.py:98-141); EvacuateInstancesTask reads them back with the DB's default
        # sort, created_at desc then id desc (db/sqlalchemy/api.py:104-106, 632-640): the list
        # reversed. Nova lists servers newest first (id 3, 2, 1, 0 here), so with servers 0, 1
        # HA_Enabled the prepared list is [1, 0, 3, 2] and the evacuation order [2, 3, 0, 1]:
        # the non-HA servers go first and HA_Enabled server 1 waits for the second round.
        hosts, servers = fleet(4, 4)
        for v in servers[2:]:
            v["ha_enabled"] = False
        sim = FakeHasim(hosts, servers, config={"masakari": {"notification_delay_max": 0}})
        sim.crash_host(T, 0)
        run(sim)
        evac = sim.commands("evacuate")
        self.assertEqual([(rel_s([e])[0], e[1]["vm"]) for e in evac],
                         [(241, 2), (241, 3), (241, 0), (286, 1)])

    def test_api_pause_shifts_everything_by_at_most_five_seconds_reproducibly(self):
        runs = []
        for _ in range(2):
            sim = self.crash(config={})  # notification_delay_max = 5 (masakari/conf/api.py:105)
            run(sim)
            runs.append([(t, c) for t, c in sim.commands("evacuate")])
        self.assertEqual(runs[0], runs[1], "same seed, same instants")
        shift = (runs[0][0][0] - T) / S - 241
        self.assertTrue(0 <= shift <= 5, shift)
        self.assertEqual(rel_s(runs[0]), [241 + shift] * 3 + [286 + shift])

    def test_power_on_after_reboot_is_ignored(self):
        # stonith_action = reboot: IPMI reads "on" at 61 s and at each of 3 retries, each 10 s
        # after the previous answer (1 s), then the monitor sends host_status UNKNOWN and the
        # engine ignores it (manager.py:185-193).
        sim = self.crash(power="on")
        out, _ = run(sim)
        self.assertEqual(rel_s(sim.commands("check_power")), [60, 71, 82, 93])
        self.assertEqual(sim.commands("evacuate"), [])
        self.assertEqual(sim.commands("disable_service"), [])
        self.assertEqual([n[:2] for n in notifications(out)], [("COMPUTE_HOST", "ignored")])

    def test_restrict_to_remotes_with_the_ipmi_check_never_notifies(self):
        # The real hostmonitor's behaviour in remote mode (test_hostmonitor_upstream.py),
        # as the monitor model reproduces it: no check_power, no notification, nothing moves.
        sim = self.crash(config={"hostmonitor": {"restrict_to_remotes": True}})
        out, _ = run(sim)
        self.assertEqual(sim.commands("check_power"), [])
        self.assertEqual(sim.commands("evacuate"), [])
        self.assertEqual(notifications(out), [])

    def test_a_host_left_on_maintenance_is_refused_next_time(self):
        # Masakari never clears on_maintenance (manager.py:206-217); its API then refuses the
        # host's next notification with 409 (ha/api.py:302-311). The what-if operator clears it.
        def two_crashes(config):
            sim = self.crash(config=config, vms=1)
            back = T + 600 * S

            def up():
                sim.hosts[0].update(node_online=True, service_up=True)
                sim.vms[0].update(host=0)  # put the server back for the second crash
            sim.at(back, {"type": "node_online", "host": 0}, up)
            sim.crash_host(T + 7200 * S, 0)
            run(sim, until_us=T + 9000 * S)
            return sim
        sim = two_crashes({"masakari": {"notification_delay_max": 0}})
        self.assertEqual(rel_s(sim.commands("evacuate")), [241])
        sim = two_crashes({"masakari": {"notification_delay_max": 0},
                           "clear_maintenance_on_host_return": True})
        self.assertEqual(rel_s(sim.commands("evacuate")), [241, 7200 + 241])
        self.assertEqual(rel_s(sim.commands("enable_service")), [600])


@unittest.skipUnless(HAVE_VENV, "no masakari venv")
class InstanceFailure(unittest.TestCase):
    def test_stop_start_confirm(self):
        hosts, servers = fleet(2, 2)
        servers[1]["ha_enabled"] = False
        sim = FakeHasim(hosts, servers, stop_us=5 * S, boot_us=45 * S,
                        config={"masakari": {"notification_delay_max": 0}})
        sim.crash_guest(T, 0)
        sim.crash_guest(T, 1)
        out, _ = run(sim)
        # StopInstanceTask finds it stopped already (Nova's power sync), StartInstanceTask
        # starts it at once, ConfirmInstanceActiveTask polls 1 s until active (45 s here);
        # the non-HA_Enabled server is skipped (process_all_instances = False).
        self.assertEqual(sim.commands("stop_server"), [])
        self.assertEqual([(rel_s([x])[0], x[1]["vm"]) for x in sim.commands("start_server")],
                         [(0, 0)])
        self.assertEqual(sim.vms[0]["status"], "active")
        self.assertEqual([n[:2] for n in notifications(out)],
                         [("VM", "finished"), ("VM", "finished")])


@unittest.skipUnless(HAVE_VENV, "no masakari venv")
class VirtualHub(unittest.TestCase):
    def test_fifo_ties_one_clock_and_no_wall_time(self):
        code = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import vtime, vhub
vhub.eventlet.monkey_patch(os=False)
vtime.install_clock()
hub = vhub.install()
import eventlet
from oslo_utils import timeutils
vtime.CLOCK.set(5_000_000)
order = []
def g(i):
    eventlet.sleep(10)
    order.append(i)
for i in range(300):
    eventlet.spawn_n(g, i)
hub.run_now()
assert hub.next_deadline_us() == 15_000_000, hub.next_deadline_us()
vtime.CLOCK.set(15_000_000)
t0 = time.perf_counter()
hub.run_now()
assert order == list(range(300)), order[:10]
assert time.perf_counter() - t0 < 5
assert time.monotonic() == 15.0
assert time.time() == vtime.CLOCK.epoch_s + 15.0
assert timeutils.utcnow().isoformat() == "2026-01-01T00:00:15", timeutils.utcnow()
assert hub.next_deadline_us() is None
print("ok")
'''
        p = subprocess.run([PYTHON, "-W", "ignore", "-c", code,
                            os.path.dirname(CONTROLLER)], capture_output=True, timeout=60)
        self.assertEqual(p.stdout.strip(), b"ok", p.stderr.decode()[-2000:])


if __name__ == "__main__":
    unittest.main()
