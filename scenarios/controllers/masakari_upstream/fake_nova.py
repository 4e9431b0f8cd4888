"""A python-novaclient stand-in that answers Masakari from hasim, at the current virtual instant.

Masakari's `masakari.compute.nova.API` runs unmodified (its logging, its
`translate_nova_exception`, its call order); only `masakari.compute.nova.novaclient`, the
factory that would build a keystone session and a real client, is replaced by `client()`
below. Each call is one hasim query or synchronous command on the step's Inventory; hasim's
refusals come back as novaclient's own exceptions with the same HTTP code (400 BadRequest,
404 NotFound, 409 Conflict), which Masakari translates as it does in production.

What Nova shows, mapped from hasim's HostView/VmView (cited in /work/notes/nova-facts.md):
- server id: a UUID derived from the hasim id (`uuid_of`); name `vm-<id>`; metadata
  `HA_Enabled=True` when hasim's `ha_enabled`.
- `OS-EXT-STS:vm_state`: hasim's status (active/stopped/error); during a move Nova keeps
  vm_state and sets task_state (nova/compute/api.py:5735), so status `rebuilding` reads
  vm_state `active`, task_state `rebuilding`.
- `OS-EXT-SRV-ATTR:hypervisor_hostname` (what Masakari compares to the failed host): the name
  of hasim's `host`, which hasim, like Nova, changes when the rebuild ends
  (resource_tracker.py:2150-2161). hasim also shows Nova's vm_state `error` after NoValidHost
  and `stopped` for a guest that crashed, and refuses synchronously what Nova's API refuses.
- `servers.list(host=...)`: Nova's default order, created_at desc then id desc
  (nova/api/openstack/common.py:143, nova/db/main/api.py:1706); hasim's servers are all
  created at time 0, so: id descending.
- nova-compute services: one per host, id = host id + 1, status enabled/disabled, state up/down.
- aggregates: hasim has none (only `add_reserved_host_to_aggregate` would ask).
"""

import uuid

from novaclient import exceptions as nova_exc

import hasim_controller as hc

_NS = 0x4A5C_0000_0000_4000_8000_0000_0000_0000  # fixed prefix: reproducible ids


def uuid_of(vm_id):
    return str(uuid.UUID(int=_NS | vm_id))


def vm_of(server_uuid):
    try:
        value = uuid.UUID(str(server_uuid)).int
    except ValueError:
        raise nova_exc.NotFound(404, "No server with a name or ID of '%s' exists." % server_uuid)
    if value & ~0xFFFF_FFFF != _NS:
        raise nova_exc.NotFound(404, "No server with a name or ID of '%s' exists." % server_uuid)
    return value & 0xFFFF_FFFF


class Bridge:
    """The link to hasim: the current step's Inventory and the host name table."""

    def __init__(self):
        self.inventory = None
        self.host_ids = {}  # name -> id
        self.host_names = {}  # id -> name
        self.calls = 0

    def set_hosts(self, hosts):
        self.host_ids = {h["name"]: h["id"] for h in hosts}
        self.host_names = {h["id"]: h["name"] for h in hosts}

    def inv(self):
        if self.inventory is None:
            raise nova_exc.ClientException(503, "Nova called outside a hasim step")
        self.calls += 1
        return self.inventory

    def host_id(self, name):
        if name not in self.host_ids:
            raise nova_exc.NotFound(404, "Compute host %s could not be found." % name)
        return self.host_ids[name]

    def run(self, command):
        """A synchronous Nova call: hasim's refusal becomes novaclient's exception."""
        ok, code, reason = self.inv().try_execute(command)
        if ok:
            return None
        cls = {400: nova_exc.BadRequest, 403: nova_exc.Forbidden, 404: nova_exc.NotFound,
               409: nova_exc.Conflict}.get(code)
        if cls is None:
            raise nova_exc.ClientException(code or 500, reason)
        raise cls(code, reason)

    def vm(self, server_uuid):
        try:
            return self.inv().vm(vm_of(server_uuid))
        except hc.NotFound as e:
            raise nova_exc.NotFound(404, str(e))


BRIDGE = Bridge()


class Server:
    """The attributes of novaclient's Server that Masakari reads."""

    def __init__(self, view):
        status = view["status"]
        task = view.get("task_state")
        if status == "rebuilding":
            status, task = "active", task or "rebuilding"
        self.id = uuid_of(view["id"])
        self.name = "vm-%d" % view["id"]
        self.metadata = {"HA_Enabled": "True"} if view["ha_enabled"] else {}
        self.locked = bool(view.get("locked", False))
        host = BRIDGE.host_names.get(view["host"], str(view["host"]))
        setattr(self, "OS-EXT-STS:vm_state", status)
        setattr(self, "OS-EXT-STS:task_state", task)
        setattr(self, "OS-EXT-STS:power_state", 1 if status == "active" else 4)
        setattr(self, "OS-EXT-SRV-ATTR:host", host)
        setattr(self, "OS-EXT-SRV-ATTR:hypervisor_hostname", host)

    def __repr__(self):
        return "<Server %s>" % self.name


class Service:
    def __init__(self, view):
        self.id = view["id"] + 1
        self.host = view["name"]
        self.binary = "nova-compute"
        self.status = "disabled" if view["disabled"] else "enabled"
        self.state = "up" if view["service_up"] else "down"
        self.forced_down = view["forced_down"]


class Servers:
    def list(self, detailed=True, search_opts=None):
        opts = search_opts or {}
        if "host" not in opts:
            raise nova_exc.BadRequest(400, "fake nova lists servers by host only")
        views = BRIDGE.inv().vms_on(BRIDGE.host_id(opts["host"]))
        return [Server(v) for v in sorted(views, key=lambda v: v["id"], reverse=True)]

    def get(self, server):
        return Server(BRIDGE.vm(server))

    def evacuate(self, server, host=None, **_):
        vm = vm_of(server)
        if host is None:
            BRIDGE.run(hc.evacuate(vm))
        else:
            BRIDGE.run(hc.evacuate(vm, host=BRIDGE.host_id(host)))

    def reset_state(self, server, state="error"):
        BRIDGE.run(hc.reset_state(vm_of(server), state))

    def stop(self, server):
        BRIDGE.run(hc.stop_server(vm_of(server)))

    def start(self, server):
        BRIDGE.run(hc.start_server(vm_of(server)))

    def lock(self, server, reason=None):
        BRIDGE.run(hc.lock_server(vm_of(server)))

    def unlock(self, server):
        BRIDGE.run(hc.unlock_server(vm_of(server)))


class Services:
    def list(self, host=None, binary=None):
        if binary not in (None, "nova-compute"):
            return []
        if host is None:
            return [Service(h) for h in BRIDGE.inv().hosts()]
        if host not in BRIDGE.host_ids:
            return []
        return [Service(BRIDGE.inv().host(BRIDGE.host_ids[host]))]

    def _host(self, service_id):
        if service_id - 1 not in BRIDGE.host_names:
            raise nova_exc.NotFound(404, "Service %s not found." % service_id)
        return service_id - 1

    def disable_log_reason(self, service_id, reason):
        BRIDGE.run(hc.disable_service(self._host(service_id)))

    def disable(self, service_id):
        BRIDGE.run(hc.disable_service(self._host(service_id)))

    def enable(self, service_id):
        BRIDGE.run(hc.enable_service(self._host(service_id)))


class Aggregates:
    def list(self):
        return []

    def add_host(self, aggregate, host):
        raise nova_exc.NotFound(404, "hasim models no host aggregates")


class Client:
    def __init__(self):
        self.servers = Servers()
        self.services = Services()
        self.aggregates = Aggregates()


_CLIENT = Client()


def client(context, timeout=None):
    """Replaces masakari.compute.nova.novaclient (same signature)."""
    return _CLIENT
