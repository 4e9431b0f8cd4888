"""Upstream Masakari (PyPI masakari==22.0.0), configured and wired in-process, no file patched.

What runs is Masakari's own code: `masakari.ha.api.NotificationAPI.create_notification` (the
API's checks: host on_maintenance → 409, duplicates within 180 s → 409, the random pause of
up to `notification_delay_max` = 5 s when no coordination backend is set), the engine's
`MasakariManager.process_notification`, the taskflow driver and its host-/instance-failure
flows, `masakari.compute.nova.API`, its SQLite schema from its own migrations
(`masakari.db.migration.db_sync`, which also creates taskflow's tables) in `out_dir`.
What is replaced, by assigning module attributes at start-up:
- `masakari.compute.nova.novaclient` (keystone + HTTP) → fake_nova.client (answers from hasim);
- `masakari.engine.rpcapi.EngineAPI` (oslo.messaging cast) → `InProcessEngineAPI`, which
  spawns `MasakariManager.process_notification` in a green thread, as the engine's RPC server
  would on receiving the cast;
- oslo.messaging's transport is its in-process `fake:/` one and versioned notifications go to
  the `noop` driver (nothing listens to them here) — set in the masakari.conf written to out_dir;
- the engine's periodic tasks (`_process_unfinished_notifications` every 120 s,
  `_check_expired_notifications` every 600 s) are called on their spacing grid from the
  controller's start, and only while some notification is new, running or in error (their
  bodies do nothing otherwise), so an idle year costs no wake-ups.
"""

import os
import random
import uuid

import eventlet

from vtime import CLOCK

# Options a scenario may set in [policy.config] "masakari" table: (group, name).
OPTIONS = {
    "wait_period_after_service_update": ("DEFAULT", "wait_period_after_service_update"),
    "wait_period_after_evacuation": ("DEFAULT", "wait_period_after_evacuation"),
    "wait_period_after_power_off": ("DEFAULT", "wait_period_after_power_off"),
    "wait_period_after_power_on": ("DEFAULT", "wait_period_after_power_on"),
    "verify_interval": ("DEFAULT", "verify_interval"),
    "host_failure_recovery_threads": ("DEFAULT", "host_failure_recovery_threads"),
    "process_unfinished_notifications_interval":
        ("DEFAULT", "process_unfinished_notifications_interval"),
    "duplicate_notification_detection_interval":
        ("DEFAULT", "duplicate_notification_detection_interval"),
    "notification_delay_max": ("DEFAULT", "notification_delay_max"),
    "evacuate_all_instances": ("host_failure", "evacuate_all_instances"),
    "ignore_instances_in_error_state": ("host_failure", "ignore_instances_in_error_state"),
    "process_all_instances": ("instance_failure", "process_all_instances"),
}


def _deterministic_uuid4(rng):
    def uuid4():
        return uuid.UUID(int=rng.getrandbits(128), version=4)
    return uuid4


class InProcessEngineAPI:
    """masakari.engine.rpcapi.EngineAPI without a message bus: the cast becomes a green thread."""

    manager = None  # set by Engine

    def __init__(self, *args, **kwargs):
        pass

    def process_notification(self, context, notification):
        eventlet.spawn_n(self.manager.process_notification, context,
                         notification=notification)


class Engine:
    def __init__(self, out_dir, options, seed, replication, log_level="WARNING"):
        # Reproducible notification UUIDs and API pauses: one keyed stream per replication.
        rng = random.Random("hasim-masakari:%d:%d" % (seed, replication))
        uuid.uuid4 = _deterministic_uuid4(random.Random(rng.getrandbits(64)))
        random.seed(rng.getrandbits(64))

        conf_path = os.path.join(out_dir, "masakari.conf")
        with open(conf_path, "w") as f:
            f.write(self.config_file(out_dir, options, log_level))
        import masakari.conf
        from oslo_log import log as logging
        self.CONF = CONF = masakari.conf.CONF
        logging.register_options(CONF)
        CONF(["--config-file", conf_path], project="masakari", default_config_files=[])
        logging.setup(CONF, "masakari")
        from masakari import rpc
        rpc.init(CONF)

        # SQLite without fsync per commit (PRAGMA synchronous = OFF) on both databases:
        # durability against power loss means nothing for a simulated engine, and a crash of
        # this process loses nothing committed. With fsync, commits were most of the wall time
        # (109 commits, 1.6 s, per recovery of a 13-server host on a loaded disk).
        import sqlalchemy

        @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
        def _no_fsync(dbapi_connection, _record):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA synchronous = OFF")
            cur.close()

        from masakari.db import migration
        migration.db_sync()

        import masakari.compute.nova
        import masakari.engine.rpcapi
        import fake_nova
        masakari.compute.nova.novaclient = fake_nova.client
        InProcessEngineAPI.RPC_API_VERSION = masakari.engine.rpcapi.EngineAPI.RPC_API_VERSION
        masakari.engine.rpcapi.EngineAPI = InProcessEngineAPI

        from masakari import context, objects
        from masakari.engine import manager
        from masakari.ha import api as ha_api
        objects.register_all()
        self.objects = objects
        self.ctx = context.get_admin_context()
        self.manager = manager.MasakariManager()
        InProcessEngineAPI.manager = self.manager
        self.api = ha_api.NotificationAPI()
        self.periodic_running = False
        self.rejected = 0
        self.created = 0
        self.errors = []

    @staticmethod
    def config_file(out_dir, options, log_level):
        """masakari.conf as an operator writes it (kept in out_dir beside the databases)."""
        sections = {
            "DEFAULT": {
                # No message bus: oslo.messaging's in-process fake transport.
                "transport_url": "fake:/",
                "debug": str(log_level == "DEBUG"),
                "default_log_levels": ",".join(
                    ["masakari=%s" % log_level] + ["%s=WARNING" % m for m in (
                        "taskflow", "oslo_db", "alembic", "stevedore", "oslo_service",
                        "oslo.service", "oslo_messaging")]),
            },
            "database": {"connection": "sqlite:///" + os.path.join(out_dir, "masakari.db")},
            # A file, not :memory: — taskflow's persistence on in-memory SQLite loses its
            # tables between connections and the flows then fail silently.
            "taskflow": {"connection": "sqlite:///" + os.path.join(out_dir, "taskflow.db")},
            # Masakari's versioned notifications (segment/host/notification events): nothing
            # listens to them here.
            "oslo_messaging_notifications": {"driver": "noop"},
        }
        for key, value in sorted(options.items()):
            if key not in OPTIONS:
                raise ValueError("masakari option %r is not one this controller sets "
                                 "(known: %s)" % (key, ", ".join(sorted(OPTIONS))))
            group, name = OPTIONS[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            sections.setdefault(group, {})[name] = str(value)
        return "".join("[%s]\n%s\n" % (g, "".join("%s = %s\n" % kv for kv in kvs.items()))
                       for g, kvs in sections.items())

    def create_segment(self, hosts, recovery_method):
        """One failover segment of every hasim host (reserved hosts as hasim lists them). A
        restarted controller (on_crash = "restart") finds it in its database, as a restarted
        masakari-engine does: Masakari's state lives in the DB, not in the process."""
        if len(self.objects.FailoverSegmentList.get_all(self.ctx)):
            return
        seg = self.objects.FailoverSegment(context=self.ctx)
        seg.name = "hasim"
        seg.service_type = "COMPUTE"
        seg.recovery_method = recovery_method
        seg.description = "all hosts of the hasim scenario"
        seg.create()
        for h in hosts:
            host = self.objects.Host(context=self.ctx)
            host.name = h["name"]
            host.type = "COMPUTE"
            host.control_attributes = "SSH"
            host.reserved = bool(h["reserved"])
            host.on_maintenance = False
            host.failover_segment = seg
            host.create()

    # the API a monitor calls -------------------------------------------------------------
    def notify(self, notification):
        """POST /notifications as masakari-monitors sends it (in a green thread: the API's
        pause before inserting the row is a real eventlet sleep). 400/409 are dropped, as
        masakari-monitors' SendNotification does (masakarimonitors/ha/masakari.py:75-78)."""
        eventlet.spawn_n(self._create, dict(notification))

    def _create(self, data):
        from masakari import exception
        try:
            self.api.create_notification(self.ctx, data)
            self.created += 1
        except (exception.HostOnMaintenanceError, exception.DuplicateNotification,
                exception.HostNotFoundByName):
            self.rejected += 1
            return
        except Exception as e:  # noqa: BLE001 — reported by the controller after the instant
            import traceback
            self.errors.append("create_notification(%r): %s\n%s"
                               % (data, e, traceback.format_exc()))
            return
        if not self.periodic_running:
            self.periodic_running = True
            eventlet.spawn_n(self._periodic)

    # periodic tasks ---------------------------------------------------------------------
    def _open_notifications(self):
        return self.objects.NotificationList.get_all(
            self.ctx, filters={"status": ["new", "running", "error"]})

    def _periodic(self):
        spacing_us = self.CONF.process_unfinished_notifications_interval * 1_000_000
        expiry_us = self.CONF.check_expired_notifications_interval * 1_000_000
        try:
            while len(self._open_notifications()):
                due = (CLOCK.now_us // spacing_us + 1) * spacing_us
                eventlet.sleep((due - CLOCK.now_us) / 1e6)
                self.manager._process_unfinished_notifications(self.ctx)
                if expiry_us and due % expiry_us == 0:
                    self.manager._check_expired_notifications(self.ctx)
        finally:
            self.periodic_running = False

    # what the operator model reads and does ---------------------------------------------
    def host_record(self, name):
        return self.objects.Host.get_by_name(self.ctx, name)

    def host_busy(self, name):
        """Whether a notification of this host is still new, running or in error."""
        host = self.host_record(name)
        return any(n.source_host_uuid == host.uuid for n in self._open_notifications())

    def clear_maintenance(self, name):
        host = self.host_record(name)
        host.on_maintenance = False
        host.save()
