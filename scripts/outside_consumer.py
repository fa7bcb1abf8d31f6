#!/usr/bin/env python3
"""An outside consumer of one LA's Bridges streams, as a user's own program
would be: it connects with nats-py, reads the events, assignments and plans
streams through JetStream pull consumers of its own (durable, explicit
acks, from the first message), validates every message against the
checked-in JSON Schemas (schemas/json, with jsonschema), checks that each
message's Nats-Msg-Id is the id its payload names, and prints one JSON
object of counts per subject kind:

    {"assignments": 3, "events": 120, "plans": 1}

Exit 1 (with the message's subject and the error on stderr) on a message
that does not validate, 3 when nats-py or jsonschema is not installed (run
scripts/setup: it makes the venv they live in).

Usage: outside_consumer.py --url nats://127.0.0.1:4222 --la 312
       [--prefix bridges] [--schemas schemas/json] [--consumer outside]
"""
import argparse
import asyncio
import json
import pathlib
import sys

try:
    import nats
    from nats.errors import TimeoutError as NatsTimeout
    from jsonschema import Draft202012Validator
except ImportError as e:
    print(f"{e.name} is not installed: run scripts/setup (it makes the venv)", file=sys.stderr)
    sys.exit(3)

# Subject kind -> (stream suffix, subject filter after <prefix>.<la>., schema).
KINDS = {
    "events": ("EVENTS", "events.>", "event-envelope"),
    "assignments": ("ASSIGNMENTS", "assignments.>", "event-envelope"),
    "plans": ("PLANS", "plans.*", "run-plan"),
}


def expected_msg_id(kind, message):
    """The id a message of `kind` is published under."""
    if kind == "events":
        return message["event_id"]
    if kind == "assignments":
        return message["payload"]["assignment"]
    return message["ticket"]["run"]


async def read_stream(js, stream, subject, durable, limit_seconds):
    """Every message of `stream` now, through a durable pull consumer."""
    info = await js.stream_info(stream)
    total = info.state.messages
    sub = await js.pull_subscribe(subject, durable=durable, stream=stream)
    got = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_seconds
    while len(got) < total and loop.time() < deadline:
        try:
            batch = await sub.fetch(batch=min(256, total - len(got)), timeout=2)
        except NatsTimeout:
            continue
        for m in batch:
            got.append(m)
            await m.ack()
    await sub.unsubscribe()
    if len(got) < total:
        raise RuntimeError(f"{stream}: read {len(got)} of {total} messages")
    return got


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--la", required=True, type=int)
    parser.add_argument("--prefix", default="bridges")
    parser.add_argument("--schemas", default=str(pathlib.Path(__file__).parent.parent / "schemas/json"))
    parser.add_argument("--consumer", default="outside")
    args = parser.parse_args()

    folder = pathlib.Path(args.schemas)
    validators = {}
    nc = await nats.connect(args.url, name="bridges-outside-consumer")
    js = nc.jetstream()
    token = args.prefix.upper().replace(".", "_")
    counts = {}
    try:
        for kind, (suffix, filter_, schema) in KINDS.items():
            if schema not in validators:
                text = (folder / f"{schema}.schema.json").read_text()
                validators[schema] = Draft202012Validator(json.loads(text))
            stream = f"{token}_{args.la}_{suffix}"
            subject = f"{args.prefix}.{args.la}.{filter_}"
            messages = await read_stream(js, stream, subject, f"{args.consumer}-{kind}", 60)
            for m in messages:
                message = json.loads(m.data)
                errors = sorted(validators[schema].iter_errors(message), key=lambda e: list(e.path))
                if errors:
                    e = errors[0]
                    path = "/".join(str(p) for p in e.path)
                    print(f"{m.subject}: {schema}: at /{path}: {e.message}", file=sys.stderr)
                    sys.exit(1)
                msg_id = (m.headers or {}).get("Nats-Msg-Id")
                if msg_id != expected_msg_id(kind, message):
                    print(f"{m.subject}: Nats-Msg-Id {msg_id!r} is not the payload's id", file=sys.stderr)
                    sys.exit(1)
            counts[kind] = len(messages)
    finally:
        await nc.close()
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    asyncio.run(main())
