#!/usr/bin/env bash
# System packages some tests need: Chromium (offline HTML report rendering test), PostgreSQL
# and MariaDB (DevLake connector tests, one real server each), Java 17 (PySpark tests under
# the `spark` marker; Spark 4 needs Java 17+). Installs only what is missing, so running it
# again is a no-op; needs root or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
{ command -v mariadbd || [ -x /usr/sbin/mariadbd ]; } >/dev/null 2>&1 || need+=(mariadb-server)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing system packages: ${need[*]}"
$SUDO apt-get update -qq
# policy-rc.d 101: do not start the distribution's own database services on install (the
# tests start throwaway servers themselves, and containers often have no init system).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" \
  >/dev/null
