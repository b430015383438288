#!/usr/bin/env bash
# Debian packages the controller-side tests need on this machine: Graphviz (the diagram
# test renders the DOT the collection writes) and PostgreSQL's server (the postgresql state
# backend's tests start private clusters with its initdb/pg_ctl; Debian's own main cluster is
# not created). Idempotent: installs only what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v dot >/dev/null || missing+=(graphviz)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "[host-packages] missing ${missing[*]}: run as root, or apt-get install ${missing[*]}" >&2
    exit 1
fi
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/wgsdn-tests.conf
fi
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "[host-packages] installed ${missing[*]}" >&2
