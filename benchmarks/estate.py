"""Estate benchmark: broker message rate and head office's freshness on a real Mosquitto.

``./scripts/bench estate [--appliances N] [--hubs H] [--changes N] [--paced-rate R]``
starts Mosquitto as the tests do (TLS, a password per hub, the ACL), then:

1. every hub publishes each of its appliances' retained state once (the estate's
   full tree, N appliances over H hubs, 500 rooms x 4 appliances by default);
2. head office's view (fleet.estate_report's EstateView) reads the whole retained tree
   cold from a new subscription: how long until it holds every appliance;
3. the hubs publish ``--changes`` state changes as fast as QoS 1 allows while head
   office is subscribed: the broker's delivered message rate;
4. the same at ``--paced-rate`` changes/s: freshness, from a hub's publish to head
   office's receipt (p50, p95, max).

Hubs are paho clients publishing what estate_hub publishes (the same payloads);
all run in this process, so freshness is the broker's hop (hub client -> Mosquitto
-> head office) without Home Assistant's own handling of a push. Prints a table
and one JSON line.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
from pathlib import Path
import statistics
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

from custom_components.liuzhou_appliances.estate_topics import (
    ApplianceState,
    encode,
    now_iso,
    state_topic,
)
from fleet.estate_mqtt import BrokerSettings, connect
from fleet.estate_report import EstateView
from tests.estate.broker import ESTATE, USERS, MosquittoBroker

HUBS = [user for user, (_pw, building) in USERS.items() if building is not None]


def _state(appliance_id: str, floor: int, energy: float) -> ApplianceState:
    return ApplianceState(
        appliance_id=appliance_id,
        type="room_air_conditioner",
        name=f"AC {appliance_id}",
        floor=f"Floor {floor}",
        room=f"Room {appliance_id}",
        online=True,
        state="cool",
        power_w=600.0,
        energy_kwh=energy,
        cost=energy * 0.6,
        faults=(),
        updated=now_iso(),
    )


def _settings(broker: MosquittoBroker, user: str) -> BrokerSettings:
    return BrokerSettings("127.0.0.1", broker.tls_port, True, broker.ca, user, USERS[user][0])


def main() -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="./scripts/bench estate")
    parser.add_argument("--appliances", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--paced-rate", type=float, default=200.0)
    parser.add_argument("--paced-changes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = MosquittoBroker(Path(tmp) / "broker")
        broker.configure()
        broker.start()
        try:
            results = _run(broker, args)
        finally:
            broker.stop()
    width = max(len(k) for k in results)
    print(f"{'measure':<{width}}  {'value':>10}")
    for name, value in results.items():
        print(f"{name:<{width}}  {value:>10.3f}")
    print(
        f"delivered/published: {results['delivered_ratio']:.3f}; paced freshness p95 is "
        f"{results['fresh_p95_ms'] / max(results['fresh_p50_ms'], 1e-9):.1f}x its p50"
    )
    print(json.dumps({"benchmark": "estate", **{k: round(v, 4) for k, v in results.items()}}))


def _run(broker: MosquittoBroker, args: argparse.Namespace) -> dict[str, float]:
    hubs = [connect(_settings(broker, user)) for user in HUBS]
    buildings = [str(USERS[user][1]) for user in HUBS]
    appliances = [
        (i % len(hubs), f"ac-{i:05d}", i // 40 + 1) for i in range(args.appliances)
    ]  # 40 appliances (10 rooms) a floor
    try:
        started = time.perf_counter()
        infos = [
            hubs[h].publish(
                state_topic(ESTATE, buildings[h], a), encode(_state(a, f, 0.0)), 1, retain=True
            )
            for h, a, f in appliances
        ]
        for info in infos:
            info.wait_for_publish(30)
        tree_publish_s = time.perf_counter() - started

        started = time.perf_counter()
        view = _read_until_complete(broker, args.appliances)
        cold_read_s = time.perf_counter() - started
        held = sum(len(b.appliances) for b in view.buildings.values())
        assert held == args.appliances, (held, view.skipped[:3])

        office = connect(_settings(broker, "office"))
        received: dict[str, float] = {}
        lock = threading.Lock()
        count = [0]

        def _on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            if msg.retain:
                return  # the tree's retained copies, sent on subscribing
            with lock:
                count[0] += 1
                received[_key(msg.payload)] = time.perf_counter()

        office.on_message = _on_message
        office.subscribe(f"liuzhou/{ESTATE}/#", qos=1)
        time.sleep(2)  # the retained tree arrives and is skipped
        with lock:
            count[0] = 0

        started = time.perf_counter()
        infos = []
        for n in range(args.changes):
            h, a, f = appliances[n % len(appliances)]
            state = _state(a, f, 1.0 + n)
            infos.append(
                hubs[h].publish(state_topic(ESTATE, buildings[h], a), encode(state), 1, True)
            )
        for info in infos:
            info.wait_for_publish(60)
        deadline = time.monotonic() + 30
        while count[0] < args.changes and time.monotonic() < deadline:
            time.sleep(0.01)
        burst_s = time.perf_counter() - started
        delivered = count[0]

        sent: dict[str, float] = {}
        interval = 1.0 / args.paced_rate
        base = 1_000_000.0
        started = time.perf_counter()
        for n in range(args.paced_changes):
            h, a, f = appliances[(n * 7) % len(appliances)]
            state = replace(_state(a, f, base + n))
            payload = encode(state)
            sent[_key(payload)] = time.perf_counter()
            hubs[h].publish(state_topic(ESTATE, buildings[h], a), payload, 1, True)
            time.sleep(max(0.0, started + (n + 1) * interval - time.perf_counter()))
        time.sleep(2)
        office.loop_stop()
        office.disconnect()
        with lock:
            delays = [(received[k] - t) * 1000 for k, t in sent.items() if k in received]
    finally:
        for hub in hubs:
            hub.loop_stop()
            hub.disconnect()
    delays.sort()
    return {
        "appliances": float(args.appliances),
        "hubs": float(len(hubs)),
        "tree_publish_s": tree_publish_s,
        "tree_publish_msgs_per_s": args.appliances / tree_publish_s,
        "cold_read_s": cold_read_s,
        "burst_changes": float(args.changes),
        "burst_delivered_msgs_per_s": delivered / burst_s,
        "delivered_ratio": delivered / args.changes,
        "paced_rate_per_s": args.paced_rate,
        "fresh_p50_ms": statistics.median(delays),
        "fresh_p95_ms": delays[int(len(delays) * 0.95) - 1],
        "fresh_max_ms": delays[-1],
        "paced_lost": float(len(sent) - len(delays)),
    }


def _key(payload: bytes) -> str:
    """A change's identity: its appliance and meter reading (unique per change here)."""
    data = json.loads(payload)
    return f"{data['appliance_id']}:{data['energy_kwh']}"


def _read_until_complete(broker: MosquittoBroker, wanted: int) -> EstateView:
    """Head office's report's view, filled from a fresh subscription until it holds all."""
    view = EstateView(ESTATE)
    client = connect(_settings(broker, "office"))
    client.on_message = lambda _c, _u, msg: view.add(msg.topic, msg.payload)
    client.subscribe(f"liuzhou/{ESTATE}/#", qos=1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum(len(b.appliances) for b in view.buildings.values()) >= wanted:
            break
        time.sleep(0.005)
    client.loop_stop()
    client.disconnect()
    return view


if __name__ == "__main__":
    main()
