#!/bin/sh
# Installs, on Debian 12, every package kolabd needs to build, to run its
# tests (slapd, a Cyrus murder) and to run its demo. Run as root.
# Services of the installed packages are not started: the tests and the demo
# start their own throwaway servers on loopback.
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
libglib2.0-dev libldap2-dev libsqlite3-dev libetpan-dev libcmocka-dev
libgnutls28-dev openssl
libsystemd-dev
slapd ldap-utils
cyrus-imapd cyrus-murder cyrus-clients cyrus-common
libsasl2-modules sasl2-bin
sqlite3 procps iproute2
"

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: must run as root (apt-get)" >&2
    exit 2
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps.sh: all packages present"
    exit 0
fi

# Keep the packages' init scripts from starting slapd and Cyrus on the
# standard ports; only do so when no policy is in place already.
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=yes
fi
cleanup() { [ "$own_policy" = yes ] && rm -f "$policy"; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
