#!/usr/bin/env python3
"""Validates messages against the checked-in JSON Schemas (schemas/json).

Reads NDJSON from the file given (or stdin): one object per line,
{"schema": "<name without .schema.json>", "message": <the message>}.
Prints one JSON object of counts per schema on success; on the first
message that does not validate, prints which (line, schema, the error's
path and message) on stderr and exits 1. Exit 3 when jsonschema is not
installed. The NATS tests pipe every message they received through it.
"""
import json
import pathlib
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("jsonschema is not installed (pip install jsonschema)", file=sys.stderr)
    sys.exit(3)


def main():
    if len(sys.argv) < 2:
        print("usage: validate_messages.py SCHEMA_DIR [FILE]", file=sys.stderr)
        sys.exit(2)
    folder = pathlib.Path(sys.argv[1])
    source = open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin
    validators = {}
    counts = {}
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        item = json.loads(line)
        name = item["schema"]
        if name not in validators:
            schema = json.loads((folder / f"{name}.schema.json").read_text())
            Draft202012Validator.check_schema(schema)
            validators[name] = Draft202012Validator(schema)
        errors = sorted(validators[name].iter_errors(item["message"]), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            path = "/".join(str(p) for p in e.path)
            print(f"line {number}: {name}: at /{path}: {e.message}", file=sys.stderr)
            sys.exit(1)
        counts[name] = counts.get(name, 0) + 1
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
