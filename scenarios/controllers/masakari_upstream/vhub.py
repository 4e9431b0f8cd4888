"""An eventlet hub that jumps the virtual clock (vtime.CLOCK) instead of sleeping.

Masakari does all its waiting through eventlet (the 180 s `eventlet.sleep` of
DisableComputeServiceTask, the GreenPool of 3, oslo.service's 1 s looping calls with their
90 s timeout, the API's random pause before a notification). Under this hub those waits are
timers; between hasim steps nothing runs, and the controller asks hasim for a `set_timer` at
the earliest pending deadline (`next_deadline_us`). What this module owns: `VirtualHub` and
`install`. Import it only after vtime.install_clock().

Same-instant order: eventlet's BaseHub keeps (deadline, timer) pairs in a heap, so two timers
due at the same instant are ordered by comparing the Timer objects — by memory address, which
changes from run to run. VirtualHub stores (deadline, sequence, timer): equal deadlines fire
first-in first-out, so a run is reproducible.
"""

import heapq
import math
import sys
import time
import warnings

warnings.filterwarnings("ignore", message=".*Eventlet is deprecated")
import eventlet  # noqa: E402
import eventlet.hubs  # noqa: E402
from eventlet.hubs import hub as _hub  # noqa: E402

from vtime import CLOCK  # noqa: E402

#: Timers due within half a microsecond of now are due now (deadlines are float seconds
#: computed as now + delay; hasim's clock is integer microseconds).
EPS_S = 0.5e-6


def install():
    """Makes VirtualHub eventlet's hub and routes timeutils.utcnow and time.sleep to it."""
    from oslo_utils import timeutils

    eventlet.hubs.use_hub(VirtualHub)
    timeutils.utcnow = CLOCK.utcnow
    time.sleep = eventlet.sleep
    return eventlet.hubs.get_hub()


class DeadlockError(RuntimeError):
    pass


class VirtualHub(_hub.BaseHub):
    """An eventlet hub whose clock is CLOCK and whose waits never block (no file descriptors)."""

    @staticmethod
    def is_available():
        return True

    def __init__(self, clock=None):
        super().__init__(clock=CLOCK.monotonic)
        self._seq = 0

    # FIFO timers: (deadline, sequence, timer) --------------------------------------------
    def add_timer(self, timer):
        scheduled_time = self.clock() + timer.seconds
        self._seq += 1
        self.next_timers.append((scheduled_time, self._seq, timer))
        return scheduled_time

    def timer_canceled(self, timer):
        self.timers_canceled += 1
        len_timers = len(self.timers) + len(self.next_timers)
        if len_timers > 1000 and len_timers / 2 <= self.timers_canceled:
            self.timers_canceled = 0
            self.timers = [t for t in self.timers if not t[2].called]
            self.next_timers = [t for t in self.next_timers if not t[2].called]
            heapq.heapify(self.timers)

    def prepare_timers(self):
        t = self.timers
        for item in self.next_timers:
            if item[2].called:
                self.timers_canceled -= 1
            else:
                heapq.heappush(t, item)
        del self.next_timers[:]

    def fire_timers(self, when):
        t = self.timers
        when += EPS_S
        while t:
            exp, _, timer = t[0]
            if when < exp:
                break
            heapq.heappop(t)
            try:
                if timer.called:
                    self.timers_canceled -= 1
                else:
                    timer()
            except self.SYSTEM_EXCEPTIONS:
                raise
            except BaseException:
                self.squelch_timer_exception(timer, sys.exc_info())

    # no I/O: waiting is only ever for the next instant --------------------------------------
    def wait(self, seconds=None):
        if seconds is not None and seconds > EPS_S:
            raise DeadlockError(
                "every green thread waits on something other than a timer "
                "(green I/O is not supported under virtual time)")

    def add(self, *args, **kwargs):
        raise DeadlockError("green I/O (a socket or pipe) under virtual time: %r" % (args,))

    # driving from the main greenlet ---------------------------------------------------------
    def _drop_cancelled(self):
        self.prepare_timers()
        t = self.timers
        while t and t[0][2].called:
            heapq.heappop(t)
            self.timers_canceled -= 1

    def run_now(self, limit=1_000_000):
        """Runs every green thread that is due at CLOCK's instant, until none is."""
        for _ in range(limit):
            self._drop_cancelled()
            if not self.timers or self.timers[0][0] > self.clock() + EPS_S:
                return
            eventlet.sleep(0)
        raise DeadlockError("more than %d scheduling rounds at one instant" % limit)

    def next_deadline_us(self):
        """The earliest pending timer as integer µs (rounded up), or None."""
        self._drop_cancelled()
        if not self.timers:
            return None
        return max(CLOCK.now_us + 1, math.ceil(self.timers[0][0] * 1e6 - EPS_S * 1e6))
