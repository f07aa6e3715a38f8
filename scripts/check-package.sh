#!/usr/bin/env bash
# What another team gets: build the collection tarball, install it into an empty collections
# path, and check it there: ansible-doc renders every module, filter and role, `mtls.nginx.site`
# passes a syntax check by FQCN; then `ansible-test sanity` is clean on the whole checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/mtls-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH PYTHONPATH
export ANSIBLE_COLLECTIONS_PATH="$work/collections"

ansible-galaxy collection build --output-path "$work" . >/dev/null
tarball=$(ls "$work"/mtls-nginx-*.tar.gz)
echo "package: built $(basename "$tarball") ($(tar tzf "$tarball" | grep -vc '/$') files)"
ansible-galaxy collection install -p "$work/collections" "$tarball" >/dev/null
installed="$work/collections/ansible_collections/mtls/nginx"

for module in "$installed"/plugins/modules/*.py; do
  module=$(basename "$module" .py)
  ansible-doc "mtls.nginx.$module" >/dev/null
done
ansible-doc -t filter mtls.nginx.client_errors mtls.nginx.server_errors mtls.nginx.crl_days_left \
  mtls.nginx.pki_paths mtls.nginx.valid_certificates mtls.nginx.normalize_clients mtls.nginx.fleet_servers \
  mtls.nginx.fleet_errors mtls.nginx.client_cas mtls.nginx.rollover_errors \
  mtls.nginx.node_exporter_textfile mtls.nginx.rollover_layout_errors mtls.nginx.session_hazard_errors >/dev/null
ansible-doc -t role mtls.nginx.pki >/dev/null
ansible-doc -t role mtls.nginx.server >/dev/null
echo "package: ansible-doc renders every module, filter and role"
(cd "$work" && ansible-playbook -i "$OLDPWD/examples/inventory" mtls.nginx.site --syntax-check >/dev/null)
(cd "$work" && ansible-playbook -i "$OLDPWD/examples/inventory" mtls.nginx.refresh_crl --syntax-check >/dev/null)
(cd "$work" && ansible-playbook -i "$OLDPWD/examples/inventory" mtls.nginx.report --syntax-check >/dev/null)
echo "package: mtls.nginx.site, refresh_crl and report pass the syntax check by FQCN"

# ansible-builder collects what an execution environment needs from meta/execution-environment.yml.
requirements=$(ansible-builder introspect --sanitize "$work/collections")
grep -q "cryptography" <<<"$requirements" \
  || { echo "package: ansible-builder does not see the cryptography requirement" >&2; exit 1; }
echo "package: ansible-builder introspect finds the execution environment's requirements"

# ansible-test downloads its pip bootstrap script from a host outside PyPI; where that host is
# out of reach, a stand-in installs Python's bundled pip and then what ansible-test asks for
# from the package index (with this machine's CA bundle: ansible-test hides pip's config).
pip_version=$(python -c 'import ansible_test._internal.python_requirements as r, inspect, re
print(re.search(r"pip=.([0-9.]+).", inspect.getsource(r)).group(1))')
bootstrap=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -f "$bootstrap" ]; then
  mkdir -p "$(dirname "$bootstrap")"
  cp scripts/ansible-test-get-pip.py "$bootstrap"
fi
# Sanity runs on the checkout itself (every file git tracks or would add, bench/ and tests/
# included, not only what the tarball ships), laid out where ansible-test wants a collection.
checkout="$work/checkout/ansible_collections/mtls/nginx"
mkdir -p "$checkout"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$checkout"
(cd "$checkout" && git init -q && git add -A)
if ! sanity=$(cd "$checkout" && ansible-test sanity --python 3.11 --requirements --color no 2>&1); then
  grep -E '^(ERROR|FATAL|[a-z-]+$)|: [A-Z]+[0-9]+:' <<<"$sanity" >&2 || tail -n 40 <<<"$sanity" >&2
  echo "package: ansible-test sanity failed on the checkout (see above)" >&2
  exit 1
fi
echo "package: ansible-test sanity passed on the checkout ($(cd "$checkout" && git ls-files | wc -l) files)"
