#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use, when they are missing:
#   etcd-server    a real etcd for discovery and the webhook store (tests start their own)
#   nanomsg-utils  nanocat, the reference nanomsg, for the libparodus interop tests
#   mosquitto      the MQTT broker the benchmarks compare against
# Needs root (apt-get). The distributions' own etcd and mosquitto services are not used.
set -euo pipefail

need_apt=()
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v nanocat >/dev/null 2>&1 || need_apt+=(nanomsg-utils)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need_apt+=(mosquitto)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
for unit in etcd mosquitto; do
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
done
