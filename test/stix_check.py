#!/usr/bin/python3
"""Validate STIX 2.1 bundles (JSON files given as arguments) against the
OASIS JSON schemas, offline: the bundle, and each object against its own
type's schema; then check every indicator's pattern against the rules of
the STIX pattern grammar (pattern_grammar/STIXPattern.g4) that lockstep's
patterns use: one observation expression of comparisons joined by AND or
OR, each an object path, an equality and a string literal, the addresses
valid CIDR.  Prints one line per check: "ok - ..." or "not ok - ...".
The schemas come from $LS_STIX_SCHEMAS (default: ../shared/stix2.1-schemas
beside the source tree)."""
import ipaddress
import json
import os
import pathlib
import re
import sys

try:
    import jsonschema
except ImportError:
    print("not ok - python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(1)

root = pathlib.Path(__file__).resolve().parent.parent
schemas = pathlib.Path(os.environ.get("LS_STIX_SCHEMAS", root.parent / "shared" / "stix2.1-schemas")) / "schemas"
if not schemas.is_dir():
    print(f"not ok - no STIX schemas at {schemas} (set LS_STIX_SCHEMAS)")
    sys.exit(1)
store = {}
by_type = {}
for f in schemas.rglob("*.json"):
    s = json.loads(f.read_text())
    store[s["$id"]] = s
    by_type[f.stem] = s


def validator(schema):
    return jsonschema.Draft202012Validator(
        schema, resolver=jsonschema.RefResolver(schema["$id"], schema, store=store))


# the grammar's tokens, as the lexer reads them
STRING = r"'(?:[^'\\]|\\'|\\\\)*'"
IDENT = r"[a-zA-Z_][a-zA-Z0-9_]*"
IDENT_HYPHEN = r"[a-zA-Z_][a-zA-Z0-9_-]*"
PATH = rf"(?:{IDENT_HYPHEN}):(?:{IDENT}|{STRING})(?:\.(?:{IDENT}|{STRING})|\[(?:-?\d+|\*)\])*"
COMPARE = rf"({PATH})\s*(?:NOT\s+)?(?:=|==|!=)\s*({STRING})"
PLAIN = rf"{PATH}\s*(?:NOT\s+)?(?:=|==|!=)\s*{STRING}"
OBSERVATION = rf"^\[\s*{PLAIN}(?:\s+(?:AND|OR)\s+{PLAIN})*\s*\]$"


def unquote(s):
    return re.sub(r"\\(['\\])", r"\1", s[1:-1])


def pattern_problem(p):
    if not re.match(OBSERVATION, p):
        return "not an observation expression of the grammar"
    for m in re.finditer(COMPARE, p):
        path, value = m.group(1), unquote(m.group(2))
        if path in ("ipv4-addr:value", "ipv6-addr:value"):
            try:
                net = ipaddress.ip_network(value, strict=True)
            except ValueError as e:
                return f"{value}: {e}"
            if (net.version == 4) != path.startswith("ipv4"):
                return f"{value} is not an {path.split(':')[0]}"
        elif not path.startswith("network-traffic:extensions.'http-request-ext'.request_header."):
            return f"unexpected object path {path}"
    return None


failed = 0
def check(ok, name, detail=""):
    global failed
    failed += not ok
    print(("ok - " if ok else "not ok - ") + name + ("" if ok or not detail else f"  # {detail}"))


for path in sys.argv[1:]:
    bundle = json.loads(pathlib.Path(path).read_text())
    name = pathlib.Path(path).name
    errors = [e.message for e in validator(by_type["bundle"]).iter_errors(bundle)]
    check(not errors, f"{name}: the bundle validates", "; ".join(errors[:3]))
    bad, patterns, ids = [], 0, set()
    for o in bundle.get("objects", []):
        schema = by_type.get(o.get("type"))
        if schema is None:
            bad.append(f"{o.get('id')}: no schema for type {o.get('type')}")
            continue
        bad += [f"{o['id']}: {e.message}" for e in validator(schema).iter_errors(o)]
        if o["id"] in ids:
            bad.append(f"{o['id']} twice")
        ids.add(o["id"])
        if o["type"] == "indicator":
            patterns += 1
            problem = pattern_problem(o["pattern"])
            if problem:
                bad.append(f"{o['pattern']}: {problem}")
    check(not bad, f"{name}: each of its {len(ids)} objects validates against its type's schema, "
          f"{patterns} patterns follow the grammar", "; ".join(bad[:3]))
    refs = {v for o in bundle.get("objects", []) for k, v in o.items() if k.endswith("_ref")}
    check(refs <= ids, f"{name}: every reference is to an object of the bundle", ", ".join(sorted(refs - ids))[:200])
sys.exit(1 if failed else 0)
