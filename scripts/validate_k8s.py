"""Validates Kubernetes objects against the Kubernetes API schema, without a cluster.

    kubectl kustomize deploy/k8s | /usr/bin/python3 scripts/validate_k8s.py

Reads a multi-document YAML stream and checks every object against the API types of the official Kubernetes
Python client (Debian's python3-kubernetes, generated from the Kubernetes OpenAPI spec): known apiVersion/kind,
no unknown fields (a misspelt `readinessProbe` is an error, as with `kubectl apply --validate=strict`), the
right type for every value, and required fields present. Prints one line per object, then every problem with
its path; exits 1 if there is any problem.
"""

import sys

import yaml

try:
    from kubernetes import client
except ImportError:
    sys.exit("python3-kubernetes is missing: apt-get install python3-kubernetes (run with Debian's /usr/bin/python3)")

PRIMITIVES = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "datetime": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, str),
    "object": lambda v: True,  # IntOrString, Quantity and free-form fields
}


def model_class(api_version, kind):
    version = api_version.split("/")[-1]
    return getattr(client, version[0].upper() + version[1:] + kind, None)


def check(value, type_name, path, problems):
    if type_name.startswith("list["):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, type_name[5:-1], f"{path}[{i}]", problems)
    elif type_name.startswith("dict("):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        inner = type_name[5:-1].split(", ", 1)[1]
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{path}: key {key!r} must be a string")
            check(item, inner, f"{path}.{key}", problems)
    elif type_name in PRIMITIVES:
        if not PRIMITIVES[type_name](value):
            problems.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
    else:
        cls = getattr(client, type_name)
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object ({type_name}), got {type(value).__name__}")
            return
        by_json_name = {json: attr for attr, json in cls.attribute_map.items()}
        for key, item in value.items():
            if key not in by_json_name:
                problems.append(f"{path}.{key}: unknown field in {type_name}")
                continue
            check(item, cls.openapi_types[by_json_name[key]], f"{path}.{key}", problems)


def validate(doc, problems):
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    name = (doc.get("metadata") or {}).get("name", "?")
    where = f"{kind}/{name}"
    cls = model_class(str(api_version), str(kind)) if api_version and kind else None
    if cls is None or "kind" not in cls.openapi_types:
        problems.append(f"{where}: unknown apiVersion/kind {api_version}/{kind}")
        return where
    before = len(problems)
    check(doc, cls.__name__, where, problems)
    if len(problems) == before:
        # The generated models refuse missing required fields (and some enums) when constructed.
        try:
            client.ApiClient()._ApiClient__deserialize(doc, cls.__name__)
        except (ValueError, TypeError) as error:
            problems.append(f"{where}: {error}")
    return where


def main():
    problems = []
    count = 0
    for doc in yaml.safe_load_all(sys.stdin):
        if doc is None:
            continue
        count += 1
        print(f"checked {validate(doc, problems)}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"{count} objects, {len(problems)} problems")
    sys.exit(1 if problems or count == 0 else 0)


if __name__ == "__main__":
    main()
