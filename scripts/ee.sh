#!/usr/bin/env bash
# `make ee`: the execution environment image (ee/execution-environment.yml) built with ansible-builder.
#
# ansible-builder writes the build context and Containerfile (`ansible-builder create`); docker
# builds it, as `ansible-builder build` would, with two additions this machine needs: the host's
# network (containers here resolve no names) and the Python packages served from a local index
# (pip on this machine reaches PyPI through its own configuration, which a container does not
# share). The index is a build argument only, and the image is flattened at the end: no layer or
# history entry of it holds the index, and the image's pip still points at PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${MTLS_EE_IMAGE:-mtls-nginx-ee:latest}
build=ee/build
python=${PYTHON:-.venv/bin/python}

scripts/build-image.sh bookworm ee-base

rm -rf "$build"
mkdir -p "$build/index"
.venv/bin/ansible-galaxy collection build --force --output-path "$build" . >/dev/null
mv "$build"/mtls-nginx-*.tar.gz "$build/mtls-nginx.tar.gz"

# Every wheel the image's pip steps ask for (the base: ansible-core and ansible-runner; the
# builder: bindep and what introspection finds; the final stage: dumb-init), for the base's
# Python 3.11 and glibc 2.36 whatever Python runs this, as one PEP 503 index.
platforms=(--platform any)
for glibc in 17 28 34 36; do platforms+=(--platform "manylinux_2_${glibc}_$(uname -m)"); done
"$python" -m pip download --quiet --dest "$build/wheels" --only-binary=:all: --python-version 3.11 \
  --implementation cp --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
  'ansible-core>=2.17,<2.20' 'ansible-runner>=2.4,<3' -r meta/ee-requirements.txt \
  'bindep>=2.11,<3' 'pyyaml>=6,<7' 'requirements-parser>=0.11,<1' 'packaging>=24,<27' 'dumb-init==1.2.5' \
  >"$build/pip.log" 2>&1 \
  || { tail -n 30 "$build/pip.log" >&2; exit 1; }
"$python" - "$build/wheels" "$build/index" <<'PY'
import html, os, re, sys
wheels, index = sys.argv[1:]
projects = {}
for name in sorted(os.listdir(wheels)):
    project = re.sub(r"[-_.]+", "-", name.split("-")[0]).lower()
    projects.setdefault(project, []).append(name)
for project, files in projects.items():
    os.makedirs(os.path.join(index, project))
    links = "".join(f'<a href="../../wheels/{html.escape(f)}">{html.escape(f)}</a>\n' for f in files)
    with open(os.path.join(index, project, "index.html"), "w") as page:
        page.write(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
PY

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m http.server --bind 127.0.0.1 --directory "$build" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/index/" >/dev/null && break
  sleep 0.1
done

.venv/bin/ansible-builder create --file ee/execution-environment.yml --context "$build/context" \
  --output-filename Dockerfile >/dev/null
start=$(date +%s)
docker build --network host --build-arg "PIP_INDEX_URL=http://127.0.0.1:$port/index/" \
  --tag "$image" "$build/context" > "$build/docker-build.log" 2>&1 \
  || { tail -n 40 "$build/docker-build.log" >&2; exit 1; }
# Flattened to one layer: the build's layers and history hold the local index (the base stage's
# /etc/pip.conf, which the final stage only hides, and the build argument in each RUN's history).
# The image keeps the final file system and its run configuration (environment, user, directory,
# entrypoint, command), nothing of how it was built; tests/ee checks both.
changes=()
while IFS= read -r change; do changes+=(--change "$change"); done < <(
  docker image inspect -f '{{json .Config}}' "$image" | "$python" -c '
import json, sys
config = json.load(sys.stdin)
for variable in config.get("Env") or []:
    print(f"ENV {variable}")
for key, instruction in (("Entrypoint", "ENTRYPOINT"), ("Cmd", "CMD")):
    if config.get(key):
        print(f"{instruction} {json.dumps(config[key])}")
for key, instruction in (("User", "USER"), ("WorkingDir", "WORKDIR")):
    if config.get(key):
        print(f"{instruction} {config[key]}")')
container=$(docker create "$image")
docker export "$container" | docker import "${changes[@]}" --message "mtls.nginx execution environment" - "$image" >/dev/null
docker rm "$container" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "ee: built $image in $(( $(date +%s) - start ))s, $(( size / 1000000 )) MB"
