"""Validates a FHIR R4 Bundle with the fhir.resources package (its 6.1 line models FHIR
4.0.1): the Bundle as a whole, then every entry's resource with the model of its type.

Usage: validate_fhir.py BUNDLE.json [--require Type ...]
Prints one JSON line: {"fhir_version", "resource_types": {type: count}}; exits 1 with
the validator's message when anything does not validate or a required type is absent.
"""

import json
import sys

import fhir.resources
from fhir.resources import get_fhir_model_class


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    path, required = args[0], []
    if "--require" in args:
        required = args[args.index("--require") + 1 :]
    if fhir.resources.__fhir_version__ != "4.0.1":
        print(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not R4 4.0.1", file=sys.stderr)
        return 1
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    try:
        bundle_cls = get_fhir_model_class("Bundle")
        bundle_cls.parse_obj(data)
        counts = {}
        for i, e in enumerate(data.get("entry", [])):
            res = e["resource"]
            kind = res["resourceType"]
            try:
                get_fhir_model_class(kind).parse_obj(res)
            except Exception as err:  # the validator's own message
                print(f"entry {i} ({kind}) does not validate: {err}", file=sys.stderr)
                return 1
            counts[kind] = counts.get(kind, 0) + 1
    except Exception as err:
        print(f"Bundle does not validate: {err}", file=sys.stderr)
        return 1
    missing = [t for t in required if t not in counts]
    if missing:
        print(f"resource types missing: {missing}", file=sys.stderr)
        return 1
    print(json.dumps({"fhir_version": fhir.resources.__fhir_version__, "resource_types": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
