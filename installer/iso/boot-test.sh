#!/usr/bin/env bash
#
# Builds the installer ISO and boot-tests it under qemu (software emulation):
#
#   1. live boot from the ISO (BIOS, the ISO's GRUB): /readyz answers 200;
#      then the ISO under UEFI (OVMF): its GRUB menu starts the live system
#   2. unattended install to a blank 20 GiB virtual disk (quad.autoinstall=,
#      static address, SSH with a throw-away key), the machine powers off
#   3. the installed disk boots (UEFI, OVMF): /readyz answers 200, the console
#      banner shows the CA fingerprint, the firewall and SSH are as chosen
#   4. the first-run setup completes non-interactively (appliance:setup)
#   5. upgrade in place from a newer bundle on a Quad medium (quad-upgrade),
#      the installed disk booted by BIOS this time: the school set up in 4 is
#      still there, the new version answers /readyz
#
#   installer/iso/boot-test.sh [--iso FILE] [--bundle FILE] [--skip-upgrade] [--keep]
#
#   --iso FILE      test this ISO instead of building one
#   --bundle FILE   build the ISO from this bundle (see build.sh)
#   --skip-upgrade  stop after step 4
#   --keep          keep the work folder (disk image, serial logs)
#
# Prints the ISO size and the time of each step. Needs root (build, tools)
# and about 8 GB in $TMPDIR; takes 20-30 minutes on 2 cores.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf 'boot-test: %s\n' "$*" >&2; }
die() {
  printf 'boot-test: FAILED: %s\n' "$*" >&2
  exit 1
}

ISO=""
BUNDLE=""
UPGRADE=1
KEEP=0
while (($# > 0)); do
  case "$1" in
    --iso) ISO="${2:?--iso needs a file}"; shift ;;
    --bundle) BUNDLE="${2:?--bundle needs a file}"; shift ;;
    --skip-upgrade) UPGRADE=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/quad-boot-test.XXXXXX")"
QEMU_PID=""
stop_qemu() {
  if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  QEMU_PID=""
}
cleanup() {
  local status=$?
  stop_qemu
  if ((status != 0)); then
    for log in "$WORK"/*.serial.log; do
      [[ -f "$log" ]] || continue
      say "last lines of $log:"
      tail -n 40 "$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >&2
    done
  fi
  if ((KEEP)) || ((status != 0)); then say "work folder kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT

declare -a RESULTS=()
record() { RESULTS+=("$1"); say "$1"; }

# A free TCP port on the loopback.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Polls https://127.0.0.1:$1/readyz until 200 (qemu must keep running).
wait_readyz() {
  local port="$1" timeout="$2" started=$SECONDS status
  while ((SECONDS - started < timeout)); do
    [[ -n "$QEMU_PID" ]] && ! kill -0 "$QEMU_PID" 2>/dev/null && die "qemu exited before /readyz answered"
    status="$(curl -ksS -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$port/readyz" 2>/dev/null || true)"
    [[ "$status" == 200 ]] && return 0
    sleep 3
  done
  die "/readyz did not answer 200 within $timeout s (last: ${status:-none})"
}

QEMU_BASE=(qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 -display none -no-reboot)

# --------------------------------------------------------------- build

T=$SECONDS
if [[ -z "$ISO" ]]; then
  args=(--out "$WORK/out")
  [[ -n "$BUNDLE" ]] && args+=(--bundle "$BUNDLE")
  ISO="$("$HERE/build.sh" "${args[@]}" | tail -n 1)"
  record "build: $((SECONDS - T)) s, $(basename "$ISO") $(du -m "$ISO" | cut -f1) MB"
else
  "$HERE/build.sh" --help >/dev/null
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (build.sh installs it)"
  record "ISO: $(basename "$ISO") $(du -m "$ISO" | cut -f1) MB"
fi
[[ -f "$ISO" ]] || die "no ISO at $ISO"
ISO="$(cd "$(dirname "$ISO")" && pwd)/$(basename "$ISO")"
VERSION="$(basename "$ISO" | sed -E 's/^quad-(.*)-amd64\.iso$/\1/')"

# -------------------------------------------------------- 1. live boot

say "1. live boot (BIOS, GRUB menu of the ISO)"
PORT="$(free_port)"
T=$SECONDS
"${QEMU_BASE[@]}" -serial "file:$WORK/live.serial.log" -cdrom "$ISO" -boot d \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:8443" -device virtio-net-pci,netdev=n0 &
QEMU_PID=$!
wait_readyz "$PORT" 1800
record "live boot: /readyz 200 after $((SECONDS - T)) s"
sleep 5
if grep -q 'LIVE SYSTEM' "$WORK/live.serial.log"; then
  record "live console banner: LIVE SYSTEM label shown"
else
  say "note: the LIVE SYSTEM banner did not reach the serial console"
fi
stop_qemu

# Waits until a serial log shows a line (qemu must keep running).
wait_serial() { # log pattern timeout
  local started=$SECONDS
  while ((SECONDS - started < $3)); do
    ! kill -0 "$QEMU_PID" 2>/dev/null && die "qemu exited before $2 reached the serial console"
    grep -aq "$2" "$1" 2>/dev/null && return 0
    sleep 3
  done
  die "$2 did not reach the serial console within $3 s"
}

say "1b. live boot (UEFI, GRUB for x86_64-efi of the ISO)"
T=$SECONDS
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/live-vars.fd"
"${QEMU_BASE[@]}" -machine q35 -serial "file:$WORK/live-uefi.serial.log" \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive "if=pflash,format=raw,file=$WORK/live-vars.fd" \
  -cdrom "$ISO" -boot d -netdev user,id=n0 -device virtio-net-pci,netdev=n0 &
QEMU_PID=$!
wait_serial "$WORK/live-uefi.serial.log" 'try live or install' 600
wait_serial "$WORK/live-uefi.serial.log" 'Linux version' 600
wait_serial "$WORK/live-uefi.serial.log" 'Quad live system' 1200
record "live boot (UEFI): GRUB menu, kernel and the live system's console menu after $((SECONDS - T)) s"
stop_qemu

# ------------------------------------------------ 2. unattended install

say "2. unattended install to a blank disk"
DISK="$WORK/disk.qcow2"
qemu-img create -q -f qcow2 "$DISK" 20G
ssh-keygen -q -t ed25519 -N '' -C quad-boot-test -f "$WORK/id_ed25519"
KEY="$(cut -d' ' -f1,2 "$WORK/id_ed25519.pub")"
xorriso -osirrox on -indev "$ISO" -extract /live/vmlinuz "$WORK/vmlinuz" \
  -extract /live/initrd.img "$WORK/initrd.img" >/dev/null 2>&1 || die "could not read the kernel from the ISO"
CMDLINE="boot=live nopersistence console=ttyS0,115200n8 quad.autoinstall=auto quad.hostname=quad-test"
CMDLINE+=" quad.ip=10.0.2.15/24 quad.gateway=10.0.2.2 quad.dns=10.0.2.3 quad.timezone=Asia/Shanghai"
CMDLINE+=" quad.ssh=yes quad.ssh_key=\"$KEY\" quad.after=poweroff"
T=$SECONDS
timeout 1800 "${QEMU_BASE[@]}" -serial "file:$WORK/install.serial.log" \
  -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" -append "$CMDLINE" \
  -cdrom "$ISO" -drive "file=$DISK,if=virtio,format=qcow2" \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0 || die "the install did not power off within 30 minutes"
grep -q 'quad-install: Quad is installed on' "$WORK/install.serial.log" || die "the install did not finish (see $WORK/install.serial.log)"
record "unattended install: $((SECONDS - T)) s (to power-off), disk $(du -m "$DISK" | cut -f1) MB used"

# ------------------------------------------------ 3. installed disk boots

boot_disk() { # log name uefi|bios [more qemu arguments]
  local log="$1" firmware="$2"
  shift 2
  PORT="$(free_port)"
  SSH_PORT="$(free_port)"
  local boot=()
  if [[ "$firmware" == uefi ]]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars.fd"
    boot=(-machine q35
      -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
      -drive "if=pflash,format=raw,file=$WORK/vars.fd")
  else
    boot=(-boot c)
  fi
  "${QEMU_BASE[@]}" "${boot[@]}" -serial "file:$WORK/$log.serial.log" \
    -drive "file=$DISK,if=virtio,format=qcow2" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:8443,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" \
    -device virtio-net-pci,netdev=n0 "$@" &
  QEMU_PID=$!
}
on_vm() {
  ssh -q -i "$WORK/id_ed25519" -p "$SSH_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 -o BatchMode=yes root@127.0.0.1 "$@"
}

say "3. installed disk boots (UEFI)"
T=$SECONDS
boot_disk installed uefi
wait_readyz "$PORT" 1800
record "installed boot (UEFI): /readyz 200 after $((SECONDS - T)) s"

on_vm true || die "SSH with the key given at install does not work"
on_vm 'test "$(hostname)" = quad-test' || die "host name not set"
on_vm 'findmnt -n -o FSTYPE /var/lib/quad | grep -qx ext4' || die "/var/lib/quad is not its own partition"
on_vm 'test "$(stat -c %U:%a /var/lib/quad)" = quad:700' || die "/var/lib/quad is not quad's, mode 0700"
on_vm 'test "$(readlink -f /etc/localtime)" = /usr/share/zoneinfo/Asia/Shanghai' || die "time zone not set"
on_vm 'systemctl is-enabled --quiet systemd-timesyncd' || die "time sync not enabled"
on_vm 'systemctl is-active --quiet nftables && nft list ruleset | grep -q "dport 22 accept"' || die "firewall not active or SSH port not opened"
on_vm '! systemctl is-active --quiet postgresql' || die "PostgreSQL runs although not chosen"
on_vm '! dpkg -l unattended-upgrades 2>/dev/null | grep -q ^ii' || die "unattended-upgrades is installed"
on_vm 'test -f /etc/logrotate.d/quad' || die "no log rotation for Quad"
failed_units="$(on_vm 'systemctl --failed --no-legend --plain' || true)"
[[ -z "$failed_units" ]] || say "warning: failed units on the installed system: $failed_units"
FINGERPRINT="$(on_vm 'openssl x509 -in /var/lib/quad/pki/ca.crt -noout -fingerprint -sha256 | cut -d= -f2')"
[[ -n "$FINGERPRINT" ]] || die "no appliance CA"
on_vm "grep -qF '$FINGERPRINT' /etc/issue && grep -qF 'https://10.0.2.15/' /etc/issue" || die "the console banner lacks the address or the CA fingerprint"
# The served certificate chains to that CA.
on_vm 'cat /var/lib/quad/pki/ca.crt' >"$WORK/ca.crt"
curl -sS --cacert "$WORK/ca.crt" --resolve "quad-test:$PORT:127.0.0.1" -o /dev/null "https://quad-test:$PORT/readyz" ||
  die "the HTTPS certificate does not chain to the appliance CA for the host name"
record "installed system: banner with CA fingerprint $FINGERPRINT; firewall, SSH, storage partition, time zone checked"

# ------------------------------------------------------ 4. first-run setup

say "4. first-run setup (appliance:setup)"
T=$SECONDS
on_vm "cd / && printf %s 'Boot-test-passw0rd' | runuser -u quad -- /opt/quad/current/quadctl ace appliance:setup \
  --school-name 'Boot Test School' --school-code BOOTTEST --time-zone Asia/Shanghai --locale zh-CN \
  --admin-username admin --admin-name 'Boot Test' --admin-password-stdin" || die "appliance:setup failed"
on_vm "runuser -u quad -- /opt/quad/current/quadctl ace appliance:status --json" >"$WORK/status.json" || true
grep -q BOOTTEST "$WORK/status.json" || die "appliance:status does not show the school"
record "first-run setup: $((SECONDS - T)) s"

# ------------------------------------------------------ 5. upgrade in place

if ((UPGRADE)); then
  say "5. upgrade from a newer bundle on a Quad medium"
  T=$SECONDS
  NEXT="$VERSION.1"
  [[ -n "$BUNDLE" ]] || BUNDLE="$(ls "$WORK"/out/quad-*-linux-x64.tar.gz 2>/dev/null | head -n 1 || true)"
  if [[ -z "$BUNDLE" ]]; then
    xorriso -osirrox on -indev "$ISO" -extract /quad "$WORK/iso-quad" >/dev/null 2>&1
    BUNDLE="$(ls "$WORK"/iso-quad/quad-*-linux-x64.tar.gz | head -n 1)"
  fi
  # The same programs under a newer version number: what install.sh --upgrade
  # does (backup, migrate, switch, /readyz, keep data) does not depend on them.
  mkdir -p "$WORK/next" "$WORK/medium/quad"
  tar -C "$WORK/next" -xzf "$BUNDLE"
  old_name="$(basename "$BUNDLE" .tar.gz)"
  new_name="quad-$NEXT-linux-x64"
  mv "$WORK/next/$old_name" "$WORK/next/$new_name"
  printf '%s\n' "$NEXT" >"$WORK/next/$new_name/VERSION"
  (cd "$WORK/next/$new_name" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort |
    xargs -d '\n' sha256sum >SHA256SUMS)
  tar -C "$WORK/next" --owner=0 --group=0 -czf "$WORK/medium/quad/$new_name.tar.gz" "$new_name"
  (cd "$WORK/medium/quad" && sha256sum "$new_name.tar.gz" >"$new_name.tar.gz.sha256")
  xorriso -as mkisofs -quiet -V QUAD_LIVE -J -r -o "$WORK/medium.iso" "$WORK/medium" >/dev/null 2>&1
  # Shut down cleanly, then boot again with the medium in the drive.
  on_vm 'systemctl poweroff' || true
  for _ in $(seq 1 60); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 2; done
  stop_qemu
  T=$SECONDS
  boot_disk upgrade bios -drive "file=$WORK/medium.iso,media=cdrom,readonly=on"
  wait_readyz "$PORT" 1800
  record "second boot of the installed disk (BIOS): /readyz 200 after $((SECONDS - T)) s"
  T2=$SECONDS
  on_vm 'quad-upgrade' >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log" >&2; die "quad-upgrade failed"; }
  on_vm 'readlink /opt/quad/current' | grep -qx "$NEXT" || die "current is not $NEXT after the upgrade"
  wait_readyz "$PORT" 300
  on_vm "runuser -u quad -- /opt/quad/current/quadctl ace appliance:status --json" >"$WORK/status2.json" || true
  grep -q BOOTTEST "$WORK/status2.json" || die "the school is gone after the upgrade"
  on_vm 'ls /var/lib/quad/backups/pre-upgrade-*' >/dev/null || die "no pre-upgrade backup"
  record "upgrade $VERSION -> $NEXT with quad-upgrade: $((SECONDS - T2)) s; data kept (school BOOTTEST), pre-upgrade backup taken"
  stop_qemu
fi

say "all steps passed"
printf '%s\n' "${RESULTS[@]}"
