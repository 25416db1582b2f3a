#!/usr/bin/env python3
"""A container of the rendered chart, as scripts/e2e runs it on the host (used by scripts/e2e.d/sidecars.sh).

  container.py RENDERED KIND NAME CONTAINER BASE [--host-path CHART=HOST]... [--field PATH=VALUE]...

Prints one line per item, in this order:
  mount TYPE SOURCE HOSTDIR   each volume the container mounts: hostPath, emptyDir or secret (SOURCE: the Secret's
                              name, or -), and the host directory that stands for it
  env NAME=VALUE              the container's environment; downward-API fields from --field (an unknown one fails)
  arg ARG                     each argument, $(VAR) expanded as kubelet does, paths below a mount point translated
                              to that mount's host directory

Host directories: a hostPath's path with the first matching --host-path prefix replaced; an emptyDir
BASE/<NAME>-<volume>; a Secret BASE/secret-<name> (the caller writes the Secret's keys there). Exits 1 with a
message when the workload or container is missing, or a volume has a kind this does not know.
"""
import re
import sys

import yaml


def fail(message):
    print(f"container.py: {message}", file=sys.stderr)
    sys.exit(1)


def options(argv):
    host_paths, fields, rest = [], {}, []
    it = iter(argv)
    for a in it:
        if a in ("--host-path", "--field"):
            key, _, value = next(it, "").partition("=")
            (host_paths.append((key, value)) if a == "--host-path" else fields.__setitem__(key, value))
        else:
            rest.append(a)
    if len(rest) != 5:
        fail(__doc__.strip().splitlines()[2].strip())
    return rest, host_paths, fields


def find(rendered, kind, name, container):
    for d in yaml.safe_load_all(open(rendered)):
        if d and d.get("kind") == kind and d["metadata"]["name"] == name:
            pod = d["spec"]["template"]["spec"]
            for c in pod["containers"]:
                if c["name"] == container:
                    return pod, c
            fail(f"{kind}/{name} has no container {container}")
    fail(f"no {kind}/{name} in {rendered}")


def host_dir(volume, name, base, host_paths):
    if "hostPath" in volume:
        path = volume["hostPath"]["path"]
        for chart, host in host_paths:
            if path == chart or path.startswith(chart + "/"):
                return "hostPath", "-", host + path[len(chart):]
        return "hostPath", "-", path
    if "emptyDir" in volume:
        return "emptyDir", "-", f"{base}/{name}-{volume['name']}"
    if "secret" in volume:
        secret = volume["secret"]["secretName"]
        return "secret", secret, f"{base}/secret-{secret}"
    fail(f"volume {volume['name']}: a kind of volume this script does not know")


def main():
    (rendered, kind, name, container, base), host_paths, fields = options(sys.argv[1:])
    pod, c = find(rendered, kind, name, container)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = []
    for m in c.get("volumeMounts", []):
        kind_, source, host = host_dir(volumes[m["name"]], name, base, host_paths)
        print("mount", kind_, source, host)
        mounts.append((m["mountPath"].rstrip("/"), host))
    mounts.sort(key=lambda m: len(m[0]), reverse=True)

    env = {}
    for e in c.get("env", []):
        field = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field is not None and field not in fields:
            fail(f"{container}: no value for the downward API field {field}")
        env[e["name"]] = fields[field] if field is not None else e.get("value", "")
        print(f"env {e['name']}={env[e['name']]}")

    def translate(arg):
        arg = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), arg)
        flag, eq, value = arg.partition("=")
        if not eq:
            flag, value = "", arg
        for scheme in ("unix://", ""):
            if value.startswith(scheme):
                path = value[len(scheme):]
                for point, host in mounts:
                    if path == point or path.startswith(point + "/"):
                        return f"{flag}{eq}{scheme}{host}{path[len(point):]}"
        return arg

    for a in c.get("args", []):
        print("arg", translate(a))


main()
