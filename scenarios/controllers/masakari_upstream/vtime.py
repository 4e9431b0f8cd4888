"""Virtual time: hasim's instant as time.time, time.monotonic (and, via vhub.install,
timeutils.utcnow and eventlet's clock), so that Masakari reads one clock.

What this module owns: the one `CLOCK` (the SDK's VirtualClock) and the patches of the `time`
module. `install_clock` must run before eventlet, oslo or masakari are imported, because
oslo_utils.timeutils binds `now = time.monotonic` at import. Standard library only.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hasim_controller as hc  # noqa: E402

CLOCK = hc.VirtualClock()


def _no_wall_sleep(seconds):
    # vhub.install() replaces this by eventlet's green sleep; a real sleep here would leak wall
    # time into a virtual-time run.
    raise RuntimeError("time.sleep(%r) before the virtual hub was installed" % (seconds,))


def install_clock():
    """Points time.time / time.monotonic (and their _ns forms) at CLOCK."""
    time.time = CLOCK.time
    time.monotonic = CLOCK.monotonic
    time.time_ns = lambda: CLOCK.epoch_s * 1_000_000_000 + CLOCK.now_us * 1000
    time.monotonic_ns = lambda: CLOCK.now_us * 1000
    time.sleep = _no_wall_sleep
