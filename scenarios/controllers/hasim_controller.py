"""hasim_controller: write an HA controller that hasim runs in the loop (protocol version 1).

Standard library only: copy this one file next to your controller, or put its directory on
PYTHONPATH. hasim starts your process once per replication (``[policy] name = "external"``,
``command = ["python3", "my_ctl.py"]``) and speaks JSON lines on its stdin/stdout, lock-step,
under *virtual* time: nothing here ever reads the wall clock.

A controller subclasses :class:`Controller` and reacts to observations::

    import hasim_controller as hc

    class Evacuator(hc.Controller):
        def on_observation(self, now_us, obs, inv):
            if obs["type"] == "fenced" and obs["ok"]:
                return [hc.evacuate(vm["id"]) for vm in inv.vms_on(obs["host"])]
            return []

    if __name__ == "__main__":
        hc.main(Evacuator())

What this module owns: the wire protocol (hello/ready, step, query/answer, command/result,
done, end), the per-step :class:`Inventory` (reads through queries, synchronous commands),
SDK timers with callbacks (:meth:`Controller.set_timer`), the :class:`VirtualClock`, command
builders, and clean errors (a protocol error names the line; the process exits non-zero, which
hasim treats as a controller crash). What it must not do: read the wall clock, reorder
observations, or keep anything between replications (each replication is a new process).

Exchange (one JSON object per line)::

    hasim -> {"type":"hello","protocol":1,"scenario":..,"seed":..,"replication":..,"now_us":0,
              "restart":0,"out_dir":"/abs","config":{..}}
    ctl   -> {"type":"ready","commands":[..]}
    hasim -> {"type":"step","now_us":T,"observations":[..]}
    ctl   -> {"type":"query","query":{"type":"vms_on","host":3}}   (any number, optional)
    hasim -> {"type":"answer","vms":[..]}
    ctl   -> {"type":"command","command":{..}}                     (answered at once)
    hasim -> {"type":"result","ok":true}
    ctl   -> {"type":"done","commands":[..]}                       (ends the step)
    hasim -> {"type":"end","now_us":T}                             (the process exits 0)
"""

import json
import sys

PROTOCOL_VERSION = 1

#: Observation types of protocol 1 and the fields each carries (src/policy/api.rs).
OBSERVATION_FIELDS = {
    "node_offline": ("host",),
    "node_online": ("host",),
    "fenced": ("host", "ok"),
    "power_status": ("host", "state"),
    "evacuate_result": ("vm", "ok", "host", "reason"),
    "node_failed": ("host",),
    "migrate_result": ("vm", "ok", "host", "reason"),
    "instance_failed": ("vm",),
    "timer": ("token",),
}

#: hasim -> controller message types and their fields.
_MESSAGE_FIELDS = {
    "hello": {"type", "protocol", "scenario", "seed", "replication", "now_us", "restart",
              "out_dir", "config"},
    "step": {"type", "now_us", "observations"},
    "end": {"type", "now_us"},
}

#: Longest line accepted from hasim (a snapshot of a 100k-VM fleet is ~20 MB).
MAX_LINE_BYTES = 256 * 1024 * 1024

#: SDK timer tokens live at and above this value, so a controller's own raw `set_timer`
#: tokens (below it) never collide with them.
SDK_TOKEN_BASE = 1 << 62


class ControllerError(Exception):
    """Base of every error this module raises."""


class ProtocolError(ControllerError):
    """hasim sent something protocol 1 does not allow (or the pipe closed early)."""


class NotFound(ControllerError):
    """A query or command named a host or server hasim does not know (HTTP 404)."""

    def __init__(self, message, code=404):
        super().__init__(message)
        self.code = code


class CommandRefused(ControllerError):
    """A synchronous command was refused (Nova's 4xx answer: 409 locked, 400 bad state...)."""

    def __init__(self, command, code, reason):
        super().__init__("%s refused (%s): %s" % (command.get("type"), code, reason))
        self.command = command
        self.code = code
        self.reason = reason


# --- command builders -------------------------------------------------------------------

def _placement(host=None, fault_domain=None, strict=False):
    if host is not None and fault_domain is not None:
        raise ValueError("placement: give host or fault_domain, not both")
    if host is not None:
        return {"type": "host", "host": int(host)}
    if fault_domain is not None:
        return {"type": "fault_domain", "fault_domain": int(fault_domain), "strict": bool(strict)}
    return {"type": "any"}


def disable_service(host):
    return {"type": "disable_service", "host": int(host)}


def enable_service(host):
    return {"type": "enable_service", "host": int(host)}


def force_down(host, down=True):
    return {"type": "force_down", "host": int(host), "down": bool(down)}


def check_power(host):
    """IPMI `power status`; answered later by a `power_status` observation."""
    return {"type": "check_power", "host": int(host)}


def evacuate(vm, host=None, fault_domain=None, strict=False):
    """Nova evacuate; the outcome arrives later as an `evacuate_result` observation."""
    return {"type": "evacuate", "vm": int(vm),
            "placement": _placement(host, fault_domain, strict)}


def migrate(vm, host=None, fault_domain=None, strict=False):
    return {"type": "migrate", "vm": int(vm),
            "placement": _placement(host, fault_domain, strict)}


def start_server(vm):
    return {"type": "start_server", "vm": int(vm)}


def stop_server(vm):
    return {"type": "stop_server", "vm": int(vm)}


def lock_server(vm):
    return {"type": "lock_server", "vm": int(vm)}


def unlock_server(vm):
    return {"type": "unlock_server", "vm": int(vm)}


def reset_state(vm, state="error"):
    if state not in ("active", "error"):
        raise ValueError("reset_state: state must be 'active' or 'error', not %r" % (state,))
    return {"type": "reset_state", "vm": int(vm), "state": state}


def set_timer(token, after_us):
    """A raw timer: hasim sends a `timer` observation with `token` after `after_us`."""
    if after_us < 0:
        raise ValueError("set_timer: after_us must be >= 0, not %r" % (after_us,))
    return {"type": "set_timer", "token": int(token), "after_us": int(after_us)}


# --- virtual clock -----------------------------------------------------------------------

class VirtualClock:
    """The simulator's instant, in the shapes Python code reads time in.

    `now_us` is hasim's integer microsecond clock. `time()` is Unix time: `epoch_s` (default
    2026-01-01T00:00:00Z, a fixed instant so that runs are reproducible) plus the virtual
    seconds. `monotonic()` is the virtual seconds themselves. Patch them into code that reads
    the clock (``time.time = clock.time``) to run it under virtual time.
    """

    DEFAULT_EPOCH_S = 1767225600  # 2026-01-01T00:00:00Z

    def __init__(self, epoch_s=DEFAULT_EPOCH_S):
        self.epoch_s = epoch_s
        self.now_us = 0

    def set(self, now_us):
        if now_us < self.now_us:
            raise ProtocolError("time went backwards: %d after %d" % (now_us, self.now_us))
        self.now_us = now_us

    def seconds(self):
        return self.now_us / 1e6

    def monotonic(self):
        return self.now_us / 1e6

    def time(self):
        return self.epoch_s + self.now_us / 1e6

    def utcnow(self, with_timezone=False):
        """A UTC datetime, naive unless `with_timezone` (oslo's timeutils.utcnow signature)."""
        import datetime
        t = (datetime.datetime(1970, 1, 1)
             + datetime.timedelta(microseconds=self.epoch_s * 1_000_000 + self.now_us))
        return t.replace(tzinfo=datetime.timezone.utc) if with_timezone else t


# --- the wire ----------------------------------------------------------------------------

class Channel:
    """One JSON object per line over two binary streams, with line numbers for errors."""

    def __init__(self, rfile, wfile):
        self._r = rfile
        self._w = wfile
        self.lines_in = 0
        self.lines_out = 0

    def send(self, obj):
        self._w.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        self._w.flush()
        self.lines_out += 1

    def recv(self):
        raw = self._r.readline(MAX_LINE_BYTES + 1)
        self.lines_in += 1
        n = self.lines_in
        if not raw:
            raise ProtocolError("input line %d: hasim closed the pipe" % n)
        if len(raw) > MAX_LINE_BYTES:
            raise ProtocolError("input line %d: longer than %d bytes" % (n, MAX_LINE_BYTES))
        try:
            msg = json.loads(raw)
        except ValueError as e:
            raise ProtocolError("input line %d: not JSON (%s): %s" % (n, e, _quote(raw)))
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ProtocolError("input line %d: not an object with a \"type\": %s"
                                % (n, _quote(raw)))
        msg["_line"] = n
        return msg


def _quote(raw, limit=200):
    text = raw.decode("utf-8", "replace").rstrip("\n")
    return text if len(text) <= limit else text[:limit] + "..."


def _expect(msg, *types):
    if msg["type"] not in types:
        raise ProtocolError("input line %d: expected %s, got %r"
                            % (msg["_line"], " or ".join(types), msg["type"]))
    if msg["type"] in _MESSAGE_FIELDS:
        want = _MESSAGE_FIELDS[msg["type"]]
        have = set(msg) - {"_line"}
        if have != want:
            extra, missing = sorted(have - want), sorted(want - have)
            raise ProtocolError("input line %d: %s message: unknown fields %s, missing %s"
                                % (msg["_line"], msg["type"], extra, missing))
    return msg


# --- inventory ---------------------------------------------------------------------------

class Inventory:
    """What a controller can read and do at one instant. Valid only inside its step.

    Reads are queries answered at the same virtual instant; hasim is not asked twice for
    the same thing in a step unless a command ran in between (it may have changed the answer).
    `execute` is Nova's synchronous API answer (202 or 4xx); the asynchronous outcome of an
    evacuation or a power check arrives as an observation in a later step.
    """

    def __init__(self, channel, now_us):
        self._ch = channel
        self.now_us = now_us
        self._cache = {}
        self._open = True
        self.queries = 0
        self.commands = 0

    def _close(self):
        self._open = False

    def _ask(self, query, key):
        if not self._open:
            raise ControllerError("inventory of step at %d us used after its step ended"
                                  % self.now_us)
        cache_key = json.dumps(query, sort_keys=True)
        if cache_key in self._cache:
            return self._cache[cache_key]
        self._ch.send({"type": "query", "query": query})
        self.queries += 1
        msg = self._ch.recv()
        if msg["type"] == "error":
            if msg.get("code") == 404:
                raise NotFound(msg.get("message", "not found"))
            raise ProtocolError("input line %d: query %s failed: %s"
                                % (msg["_line"], query, msg.get("message")))
        _expect(msg, "answer")
        if key not in msg:
            raise ProtocolError("input line %d: answer to %s has no %r"
                                % (msg["_line"], query["type"], key))
        self._cache[cache_key] = msg[key]
        return msg[key]

    def hosts(self):
        """Every HostView: {id,name,fault_domain,service_up,disabled,forced_down,
        node_online,reserved}."""
        return self._ask({"type": "hosts"}, "hosts")

    def host(self, host):
        return self._ask({"type": "host", "host": int(host)}, "host")

    def vms_on(self, host):
        """Servers whose Nova record names `host`, in id order (VmView dicts)."""
        return self._ask({"type": "vms_on", "host": int(host)}, "vms")

    def vm(self, vm):
        """One VmView: {id,host,status,ha_enabled,evacuable,fault_domain,locked,task_state}."""
        return self._ask({"type": "vm", "vm": int(vm)}, "vm")

    def snapshot(self):
        return self._ask({"type": "snapshot"}, "snapshot")

    def try_execute(self, command):
        """Runs `command` now; returns (ok, code, reason) without raising on a refusal."""
        if not self._open:
            raise ControllerError("command %r sent after its step ended" % (command,))
        self._ch.send({"type": "command", "command": command})
        self.commands += 1
        self._cache.clear()
        msg = _expect(self._ch.recv(), "result", "error")
        if msg["type"] == "error":
            if msg.get("code") == 404:
                return (False, 404, msg.get("message", "not found"))
            raise ProtocolError("input line %d: command %s: %s"
                                % (msg["_line"], command, msg.get("message")))
        if msg.get("ok") is True:
            return (True, None, None)
        return (False, msg.get("code"), msg.get("reason"))

    def execute(self, command):
        """Runs `command` now; raises NotFound (404) or CommandRefused (other codes)."""
        ok, code, reason = self.try_execute(command)
        if ok:
            return True
        if code == 404:
            raise NotFound(reason)
        raise CommandRefused(command, code, reason)


# --- the controller ----------------------------------------------------------------------

class Controller:
    """Base class: override `on_observation` (per observation) or `on_step` (per instant).

    Hooks return a list of commands (or None); they run in order at the end of the step
    (`done`), and hasim drops a refused one silently — use `inventory.execute` for an answer.
    `self.clock` always reads the current virtual instant, `self.hello` is the hello message
    (scenario, seed, replication, restart, out_dir) and `self.config` its `config` table.
    """

    def __init__(self):
        self.clock = VirtualClock()
        self.hello = None
        self.config = {}
        self._timers = {}
        self._next_token = SDK_TOKEN_BASE
        self._pending = []
        self.steps = 0
        self.queries = 0
        self.sync_commands = 0
        #: Write one line of counts (steps, queries, commands) to stderr at `end`.
        self.report_counts = True

    # hooks -------------------------------------------------------------------------------

    def on_start(self, hello):
        """After hello, before ready: return commands to run at time 0 (or None)."""
        return None

    def on_step(self, now_us, observations, inventory):
        """One instant: by default, timers with callbacks go to their callback, the rest to
        `on_observation`, in hasim's order."""
        out = []
        for obs in observations:
            if obs["type"] == "timer" and obs["token"] in self._timers:
                callback, args = self._timers.pop(obs["token"])
                if callback is not None:
                    out.extend(callback(now_us, inventory, *args) or ())
                continue
            out.extend(self.on_observation(now_us, obs, inventory) or ())
        return out

    def on_observation(self, now_us, observation, inventory):
        return None

    def on_end(self, now_us):
        """The replication is over (the process exits after this returns)."""

    # timers ------------------------------------------------------------------------------

    def set_timer(self, after_us, callback=None, *args):
        """Calls `callback(now_us, inventory, *args)` after `after_us` virtual microseconds
        (its returned commands run like a hook's). Returns the token (for cancel_timer)."""
        token = self._next_token
        self._next_token += 1
        self._timers[token] = (callback, args)
        self._pending.append(set_timer(token, after_us))
        return token

    def cancel_timer(self, token):
        """The timer still fires in hasim; its callback is no longer called."""
        if token in self._timers:
            self._timers[token] = (None, ())

    # the loop ----------------------------------------------------------------------------

    def run(self, rfile, wfile):
        """Speaks the protocol until `end`. Raises ProtocolError on a broken exchange."""
        ch = Channel(rfile, wfile)
        hello = _expect(ch.recv(), "hello")
        if hello["protocol"] != PROTOCOL_VERSION:
            raise ProtocolError("input line 1: protocol %r, this SDK speaks %d"
                                % (hello["protocol"], PROTOCOL_VERSION))
        del hello["_line"]
        self.hello = hello
        self.config = hello["config"] or {}
        self.clock.set(hello["now_us"])
        commands = list(self.on_start(hello) or ())
        ch.send({"type": "ready", "commands": self._take_pending(commands)})
        while True:
            msg = _expect(ch.recv(), "step", "end")
            self.clock.set(msg["now_us"])
            if msg["type"] == "end":
                self.on_end(msg["now_us"])
                if self.report_counts:
                    sys.stderr.write("hasim_controller: %d steps, %d queries, %d synchronous "
                                     "commands\n" % (self.steps, self.queries,
                                                      self.sync_commands))
                    sys.stderr.flush()
                return
            observations = msg["observations"]
            for obs in observations:
                _check_observation(obs, msg["_line"])
            inv = Inventory(ch, msg["now_us"])
            self.steps += 1
            try:
                commands = list(self.on_step(msg["now_us"], observations, inv) or ())
            finally:
                inv._close()
                self.queries += inv.queries
                self.sync_commands += inv.commands
            ch.send({"type": "done", "commands": self._take_pending(commands)})

    def _take_pending(self, commands):
        if self._pending:
            commands = self._pending + commands
            self._pending = []
        return commands


def _check_observation(obs, line):
    if not isinstance(obs, dict) or obs.get("type") not in OBSERVATION_FIELDS:
        raise ProtocolError("input line %d: unknown observation %r" % (line, obs))
    want = set(OBSERVATION_FIELDS[obs["type"]]) | {"type"}
    if set(obs) != want:
        raise ProtocolError("input line %d: %s observation has fields %s, protocol 1 has %s"
                            % (line, obs["type"], sorted(obs), sorted(want)))


def protocol_stdout():
    """Takes file descriptor 1 for the protocol and points fd 1 and sys.stdout at stderr, so a
    stray print (or a library writing to stdout) lands in the log instead of corrupting the
    exchange."""
    import os
    sys.stdout.flush()
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


def main(controller, rfile=None, wfile=None):
    """Runs `controller` on stdin/stdout and exits: 0 after `end`, 2 on a protocol error
    (message on stderr), 1 on an exception in the controller (traceback on stderr).
    Anything else written to stdout goes to stderr (see protocol_stdout)."""
    rfile = rfile or sys.stdin.buffer
    wfile = wfile or protocol_stdout()
    try:
        controller.run(rfile, wfile)
    except ProtocolError as e:
        sys.stderr.write("hasim_controller: protocol error: %s\n" % e)
        sys.stderr.flush()
        sys.exit(2)
    sys.exit(0)
