#!/bin/bash
#
# Runs inside the image's root filesystem (chroot) while build.sh builds the
# ISO: installs the offline bundle unpacked in /root/quad-bundle/<name> the way
# install.sh does, without running it (no migrations, no keys: every appliance
# makes its own CA and keys at its first boot, see quad-prepare), and enables
# the services.
#
#   customize.sh <bundle name> <version>
set -euo pipefail
NAME="$1"
VERSION="$2"
SRC="/root/quad-bundle/$NAME"
STORAGE=/var/lib/quad

say() { printf 'customize: %s\n' "$*"; }

say "checking the bundle"
(cd "$SRC" && sha256sum --quiet --strict -c SHA256SUMS)
"$SRC/runtime/bin/node" -e 'process.exit(0)'

say "creating the system user quad"
useradd --system --user-group --home-dir "$STORAGE" --no-create-home \
  --shell /usr/sbin/nologin --comment "Quad campus appliance" quad

say "installing Quad $VERSION in /opt/quad"
mkdir -p /opt/quad
cp -a "$SRC" "/opt/quad/$VERSION"
chown -R root:root "/opt/quad/$VERSION"
chmod 0755 "/opt/quad/$VERSION"
ln -sfn "$VERSION" /opt/quad/current

mkdir -p "$STORAGE"
chown quad:quad "$STORAGE"
chmod 0700 "$STORAGE"

# The same configuration install.sh writes, plus the image's own lines.
mkdir -p /etc/quad
cat >/etc/quad/quad.env <<ENV
# Quad configuration, read by quad.service (systemd EnvironmentFile) and by
# quadctl. Edit it, then restart Quad (systemctl restart quad). One KEY=value
# per line, no quotes. Every variable is described in docs/self-hosting.md.
NODE_ENV=production
QUAD_STORAGE=$STORAGE
PM2_HOME=$STORAGE/pm2
PORT=8443
HOST=0.0.0.0
QUAD_GATEWAY_PORT=8444
QUAD_WEB_INSTANCES=2
LOG_LEVEL=info
# QUAD_HOSTNAMES=quad.school.edu.cn,10.0.0.5
# QUAD_TLS=false    plain HTTP behind a TLS-terminating proxy

DB_CONNECTION=sqlite
# PostgreSQL instead of the embedded SQLite (see docs/self-hosting.md):
# DB_CONNECTION=pg
# PG_HOST=127.0.0.1
# PG_PORT=5432
# PG_USER=quad
# PG_PASSWORD=
# PG_DATABASE=quad
# PG_SSL=false
ENV
chown root:quad /etc/quad /etc/quad/quad.env
chmod 0750 /etc/quad
chmod 0640 /etc/quad/quad.env

sed -e 's#@QUAD_PREFIX@##g' -e 's#@QUAD_USER@#quad#g' \
  "/opt/quad/$VERSION/appliance/quad.service" >/etc/systemd/system/quad.service
sed -e "s#@QUAD_STORAGE@#$STORAGE#g" -e 's#@QUAD_USER@#quad#g' \
  "/opt/quad/$VERSION/appliance/logrotate.conf" >/etc/logrotate.d/quad
chmod 0644 /etc/systemd/system/quad.service /etc/logrotate.d/quad

printf '%s\n' "$VERSION" >/etc/quad/image-version
# Until quad-issue writes the address and the CA fingerprint.
printf 'Quad %s campus appliance (\\n): starting, the address follows shortly.\n\n' "$VERSION" >/etc/issue
echo quad >/etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\tquad\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
ln -sf /usr/share/zoneinfo/Asia/Shanghai /etc/localtime
echo Asia/Shanghai >/etc/timezone

# build.sh keeps the initramfs from being made again while packages are
# removed; kernel updates later make theirs as usual.
sed -i 's/^update_initramfs=no/update_initramfs=yes/' /etc/initramfs-tools/update-initramfs.conf

chmod 0755 /usr/local/sbin/quad-*
chmod 0700 /root

say "enabling the services"
systemctl enable quad.service quad-prepare.service quad-gateway.service quad-issue.service \
  quad-autoinstall.service systemd-networkd.service systemd-resolved.service \
  systemd-timesyncd.service nftables.service
# SSH is an option of the installer; PostgreSQL runs only when chosen.
systemctl disable ssh.service postgresql.service
# No network at the school: apt's timers have nothing to fetch.
systemctl mask apt-daily.timer apt-daily-upgrade.timer
ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf

say "checking the units"
systemd-analyze verify quad.service quad-prepare.service quad-gateway.service \
  quad-issue.service quad-autoinstall.service 2>&1 | grep -v -e 'Failed to' -e 'Unit.*not found' || true

# Every installed appliance gets its own machine id (at its first boot).
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -rf /var/log/journal/* /tmp/* /var/tmp/*
say "done"
