"""Prometheus metrics of one process, served at GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Chat latencies live between a few milliseconds and a few seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.sockets = Gauge(
            "parley_sockets_connected", "Sockets connected to this process", registry=registry
        )
        self.messages_stored = Counter(
            "parley_messages_stored", "Messages stored through this process", registry=registry
        )
        self.messages_broadcast = Counter(
            "parley_messages_broadcast",
            "Messages broadcast to their room, by where they came from",
            ["source"],
            registry=registry,
        )
        # What this process hears from the others (docs/design/realtime.md, "Channels"): with
        # the sharded bus it follows the rooms its sockets are in, not the deployment's total.
        self.bus_messages_received = Counter(
            "parley_bus_messages_received",
            "Broadcasts received from Redis pub/sub, this process's own echoes included",
            registry=registry,
        )
        self.bus_channels = Gauge(
            "parley_bus_channels",
            "Redis pub/sub channels this process is subscribed to",
            registry=registry,
        )
        self.send_seconds = Histogram(
            "parley_send_seconds",
            "From a message event's arrival to its ack",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "parley_delivery_seconds",
            "From a message's creation (the time in its id) to its broadcast",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.stream_lag_seconds = Gauge(
            "parley_stream_lag_seconds",
            "Age of the newest stream record the consumer processed",
            registry=registry,
        )
        self.stream_records = Counter(
            "parley_stream_records",
            "Stream records processed, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.backend_errors = Counter(
            "parley_backend_errors",
            "Calls to Redis or DynamoDB that failed",
            ["backend"],
            registry=registry,
        )
