#!/usr/bin/env bash
#
# Fast check of the installer image's root file system: boots it with
# systemd-nspawn (no emulation, about a minute once built) and checks that
# Quad's services come up under systemd and /readyz answers 200, that the
# appliance hygiene holds (quad user, storage root 0700, firewall loaded with
# the web and gateway ports only, SSH and PostgreSQL off, time sync on, log
# rotation, no unattended upgrades) and that the console banner carries the
# CA fingerprint.
#
#   installer/iso/nspawn-check.sh [--rootfs DIR | --iso FILE | --bundle FILE]
#
#   (no option)     build the root file system (build.sh --rootfs-only; the
#                   Debian part is cached in tmp/iso-cache) from a new bundle
#   --bundle FILE   the same from this bundle
#   --rootfs DIR    check a root file system already built (it is not changed)
#   --iso FILE      check the root file system inside this ISO
#
# Needs root. systemd-nspawn runs with --register=no --keep-unit inside its
# own mount namespace, with a tmpfs on /run/systemd/nspawn (what works in
# CI containers), a private network, and a throw-away overlay on the tree.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf 'nspawn-check: %s\n' "$*" >&2; }
die() {
  printf 'nspawn-check: FAILED: %s\n' "$*" >&2
  exit 1
}
[[ "$(id -u)" == 0 ]] || die "run as root"

ROOTFS=""
ISO=""
BUNDLE=""
while (($# > 0)); do
  case "$1" in
    --rootfs) ROOTFS="${2:?--rootfs needs a folder}"; shift ;;
    --iso) ISO="${2:?--iso needs a file}"; shift ;;
    --bundle) BUNDLE="${2:?--bundle needs a file}"; shift ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

STARTED=$SECONDS
WORK="$(mktemp -d "${TMPDIR:-/tmp}/quad-nspawn.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [[ -n "$ISO" ]]; then
  say "unpacking the root file system of $ISO"
  xorriso -osirrox on -indev "$ISO" -extract /live/filesystem.squashfs "$WORK/fs.squashfs" >/dev/null 2>&1 ||
    die "no live/filesystem.squashfs in $ISO"
  unsquashfs -q -n -d "$WORK/rootfs" "$WORK/fs.squashfs" >/dev/null
  rm -f "$WORK/fs.squashfs"
  ROOTFS="$WORK/rootfs"
elif [[ -z "$ROOTFS" ]]; then
  args=(--rootfs-only "$WORK/rootfs" --work "$WORK/build")
  [[ -n "$BUNDLE" ]] && args+=(--bundle "$BUNDLE")
  "$HERE/build.sh" "${args[@]}" >/dev/null
  rm -rf "$WORK/build"
  ROOTFS="$WORK/rootfs"
fi
[[ -x "$ROOTFS/opt/quad/current/quadctl" ]] || die "$ROOTFS is not a Quad image root file system"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (apt-get install systemd-container)"

# The checks run inside the container once Quad is up; the result comes back
# through a bound folder, then the container powers itself off.
mkdir -p "$WORK/result" "$WORK/units"
cat >"$WORK/units/quad-nspawn-check.service" <<'UNIT'
[Unit]
Description=Quad image check
After=quad.service quad-issue.service
[Service]
Type=oneshot
ExecStart=/bin/bash /quad-check/check.sh
ExecStopPost=/bin/systemctl poweroff --no-block
UNIT
cat >"$WORK/result/check.sh" <<'CHECK'
#!/bin/bash
exec >/quad-check/output 2>&1
fail() { echo "FAIL $*"; failed=1; }
failed=0
/opt/quad/current/quadctl ready --timeout 300 || fail "/readyz did not answer 200"
echo "/readyz answered 200"
systemctl is-active --quiet quad.service || fail "quad.service is not active"
systemctl is-active --quiet quad-prepare.service || fail "quad-prepare.service is not active"
systemctl is-enabled --quiet quad-gateway.service || fail "quad-gateway.service is not enabled"
if [[ -f /opt/quad/current/app/commands/terminals_serve.js ]]; then
  systemctl is-active --quiet quad-gateway.service || fail "quad-gateway.service is not active"
fi
id quad >/dev/null || fail "no quad user"
[[ "$(getent passwd quad | cut -d: -f7)" == /usr/sbin/nologin ]] || fail "quad has a login shell"
[[ "$(stat -c %U:%a /var/lib/quad)" == quad:700 ]] || fail "/var/lib/quad is not quad's with mode 0700"
[[ -f /var/lib/quad/pki/ca.crt ]] || fail "no appliance CA made at first boot"
fp="$(openssl x509 -in /var/lib/quad/pki/ca.crt -noout -fingerprint -sha256 | cut -d= -f2)"
grep -qF "$fp" /etc/issue || fail "/etc/issue lacks the CA fingerprint"
pgrep -u quad -f pm2-runtime >/dev/null || fail "pm2-runtime does not run as quad"
# pm2 shows the worker as `node .../app/ace.js` (worker:run).
pgrep -u quad -f 'app/ace\.js' >/dev/null || fail "the worker does not run"
pgrep -u quad -f 'app/bin/server\.js' >/dev/null || fail "the web processes do not run"
systemctl is-active --quiet nftables.service || fail "the firewall is not loaded"
ports="$(nft list chain inet quad input | grep -o 'dport {[^}]*}' | tr -d ' ')"
[[ "$ports" == 'dport{8443,8444}' ]] || fail "the firewall opens $ports"
nft list chain inet quad input | grep -q 'policy drop' || fail "the firewall does not drop by default"
nft list chain inet quad input | grep -q '^[[:space:]]*tcp dport 22 accept' && fail "SSH is open in the firewall"
systemctl is-enabled --quiet ssh.service && fail "SSH is enabled"
ls /etc/ssh/ssh_host_* >/dev/null 2>&1 && fail "SSH host keys are baked into the image"
systemctl is-active --quiet postgresql.service && fail "PostgreSQL runs"
pg_lsclusters -h | grep -q . && fail "a PostgreSQL cluster is in the image"
dpkg -l unattended-upgrades 2>/dev/null | grep -q '^ii' && fail "unattended-upgrades is installed"
systemctl is-enabled --quiet systemd-timesyncd.service || fail "time sync is not enabled"
[[ "$(systemctl is-enabled apt-daily-upgrade.timer 2>/dev/null)" == masked ]] || fail "apt's upgrade timer is not masked"
[[ -f /etc/logrotate.d/quad ]] || fail "no log rotation for Quad"
logrotate -d /etc/logrotate.conf >/dev/null 2>&1 || fail "logrotate rejects its configuration"
[[ -s /etc/machine-id ]] || fail "no machine id at boot"
failed_units="$(systemctl --failed --no-legend --plain | awk '{print $1}' | grep -v -e systemd-networkd-wait-online -e quad-nspawn-check | tr '\n' ' ')"
[[ -z "$failed_units" ]] || fail "failed units: $failed_units"
((failed)) && echo RESULT FAIL || echo RESULT PASS
CHECK

say "booting the root file system with systemd-nspawn"
T=$SECONDS
set +e
timeout 600 unshare -m bash -c '
  set -e
  mount --make-rprivate /
  mkdir -p /run/systemd/nspawn
  mount -t tmpfs tmpfs /run/systemd/nspawn
  exec systemd-nspawn --quiet --register=no --keep-unit --boot --private-network \
    --volatile=overlay --directory="$1" --machine=quad-check \
    --bind="$2:/quad-check" --bind-ro="$3:/etc/systemd/system/quad-nspawn-check.service" \
    systemd.wants=quad-nspawn-check.service systemd.mask=systemd-networkd-wait-online.service
' _ "$ROOTFS" "$WORK/result" "$WORK/units/quad-nspawn-check.service" >"$WORK/nspawn.log" 2>&1 </dev/null
status=$?
set -e
if [[ ! -f "$WORK/result/output" ]]; then
  tail -n 60 "$WORK/nspawn.log" >&2
  die "the container gave no result (exit $status)"
fi
cat "$WORK/result/output" >&2
grep -q '^RESULT PASS' "$WORK/result/output" || { tail -n 40 "$WORK/nspawn.log" >&2; die "checks failed"; }
say "passed: booted and checked in $((SECONDS - T)) s (total $((SECONDS - STARTED)) s)"
