"""Validates an OpenAPI document with openapi-spec-validator (the OpenAPI 3.1 schema and its
$refs); prints {"valid": bool, "version": str, "error": str|null} and exits 0 when it could judge.

    openapi_check.py src/http/openapi.json
"""

import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def main():
    spec, _ = read_from_filename(sys.argv[1])
    try:
        validate(spec)
        verdict = {"valid": True, "error": None}
    # A dangling $ref surfaces as a resolver error rather than a validation error: both mean
    # the document is wrong.
    except Exception as error:  # noqa: BLE001
        verdict = {"valid": False, "error": f"{type(error).__name__}: {error}"}
    verdict["version"] = spec.get("openapi")
    json.dump(verdict, sys.stdout)


if __name__ == "__main__":
    main()
