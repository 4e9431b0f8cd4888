"""A controller that fails on purpose, for the on_crash / step_timeout tests.

It is the SDK example (evacuate after the fence) until its `misbehave` config says otherwise:
  {"misbehave": "exit", "at_step": N}     exits (status 3) at its Nth step (1-based)
  {"misbehave": "garbage", "at_step": N}  prints a line that is not JSON at its Nth step
  {"misbehave": "hang", "at_step": N}     stops answering at its Nth step (sleeps)
  {"misbehave": "exit", "at_step": N, "only_first_life": true}  as exit, but only in the
      first process of a replication (hello restart = 0), so a restarted one behaves
"""

import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scenarios", "controllers"))
import hasim_controller as hc  # noqa: E402
from evacuate_after_fence import EvacuateAfterFence  # noqa: E402


class Misbehave(EvacuateAfterFence):
    def on_start(self, hello):
        super().on_start(hello)
        self.mode = self.config.get("misbehave")
        self.at_step = int(self.config.get("at_step", 1))
        if self.config.get("only_first_life") and hello["restart"] > 0:
            self.mode = None
        sys.stderr.write("misbehave: restart %d, mode %s\n" % (hello["restart"], self.mode))

    def on_step(self, now_us, observations, inv):
        if self.mode and self.steps == self.at_step:
            if self.mode == "exit":
                sys.stderr.write("misbehave: exiting at step %d\n" % self.steps)
                sys.stderr.flush()
                os._exit(3)
            if self.mode == "garbage":
                os.write(self.proto_fd, b"this is not json\n")
                time.sleep(30)
            if self.mode == "hang":
                time.sleep(3600)
        return super().on_step(now_us, observations, inv)


if __name__ == "__main__":
    ctl = Misbehave()
    out = hc.protocol_stdout()
    ctl.proto_fd = out.fileno()
    hc.main(ctl, wfile=out)
