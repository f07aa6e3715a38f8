#!/usr/bin/env bash
# `make demo` / `make demo-down`: nginx with mTLS in a local container, configured by site.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

container=mtls-nginx-demo
image=${MTLS_TARGET_IMAGE:-mtls-nginx-target:bookworm}
pki=examples/pki
url=https://localhost:8443/

case "${1:-up}" in
  down)
    if docker rm -f "$container" >/dev/null 2>&1; then echo "demo: removed $container"; else echo "demo: no $container"; fi
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

if [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != "true" ]; then
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker run -d --name "$container" --network host "$image" sleep infinity >/dev/null
  echo "demo: started $container"
fi

ansible-playbook -i examples/inventory playbooks/site.yml

status() { curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/server/localhost.crt" "$@" "$url" || true; }
echo
echo "Without a client certificate:"
echo "  curl --cacert $pki/server/localhost.crt $url"
echo "  -> HTTP $(status)"
echo "With alice's certificate:"
echo "  curl --cacert $pki/server/localhost.crt --cert-type P12 --cert $pki/clients/alice/alice.p12:alice-demo-p12 $url"
echo "  -> HTTP $(status --cert-type P12 --cert "$pki/clients/alice/alice.p12:alice-demo-p12")"
