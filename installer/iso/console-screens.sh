#!/usr/bin/env bash
#
# Walks through the installer on the serial console of the ISO under qemu,
# the way a person would, and saves each console screen as text (80x24):
# the live menu, every installer question, the summary, the end of the
# install and the installed system's login banner. The screens go to DIR
# (default: installer/iso/screens) for docs/self-hosting.md; the interactive
# install itself is checked on the way (it must reach the login prompt of the
# installed disk).
#
#   installer/iso/console-screens.sh ISO [DIR]
#
# Needs qemu-system-x86_64 and tmux; takes 10-15 minutes under emulation.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ISO="${1:?usage: console-screens.sh ISO [DIR]}"
OUT="${2:-$HERE/screens}"
say() { printf 'console-screens: %s\n' "$*" >&2; }
die() {
  printf 'console-screens: FAILED: %s\n' "$*" >&2
  exit 1
}
command -v tmux >/dev/null || die "tmux is missing"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/quad-screens.XXXXXX")"
SESSION="quad-screens-$$"
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$WORK"' EXIT
qemu-img create -q -f qcow2 "$WORK/disk.qcow2" 20G

QEMU="qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 -display none -no-reboot -serial mon:stdio"
QEMU+=" -cdrom $ISO -boot d -drive file=$WORK/disk.qcow2,if=virtio,format=qcow2"
QEMU+=" -netdev user,id=n0 -device virtio-net-pci,netdev=n0"
tmux new-session -d -s "$SESSION" -x 80 -y 24 "$QEMU"

screen_text() { tmux capture-pane -p -t "$SESSION" 2>/dev/null || true; }
# Waits until the screen shows $1 (a fixed string), up to $2 seconds.
PROMPT=""
wait_for() {
  local text="$1" timeout="${2:-300}" started=$SECONDS
  while ((SECONDS - started < timeout)); do
    if screen_text | grep -qF -- "$text"; then
      PROMPT="$text"
      return 0
    fi
    sleep 2
  done
  screen_text >&2
  die "the console did not show \"$text\" within $timeout s"
}
# Enter on the current dialog, then waits for the next one to show $1. A key
# can be lost while a dialog is still starting under emulation: while the
# current prompt stays on the screen, Enter is pressed again every 20 s.
next() {
  local text="$1" timeout="${2:-300}" started=$SECONDS pressed=$SECONDS
  keys Enter
  while ((SECONDS - started < timeout)); do
    if screen_text | grep -qF -- "$text"; then
      PROMPT="$text"
      return 0
    fi
    if ((SECONDS - pressed >= 20)) && screen_text | grep -qF -- "$PROMPT"; then
      say "pressing Enter again on \"$PROMPT\""
      keys Enter
      pressed=$SECONDS
    fi
    sleep 2
  done
  screen_text >&2
  die "the console did not show \"$text\" within $timeout s"
}
save() { sleep 2; screen_text >"$OUT/$1.txt"; say "saved $1"; }
keys() { tmux send-keys -t "$SESSION" "$@"; sleep 1; }
type_text() { tmux send-keys -t "$SESSION" -l "$1"; sleep 1; }

say "booting the ISO"
wait_for "Quad live system" 900
save 01-live-menu
next "Install Quad on which disk?" 60
save 02-disk
next "Host name of this appliance" 60
save 03-hostname
keys BSpace BSpace BSpace BSpace
type_text quad-demo
next "Network address of" 60
save 04-network
next "Address with prefix length" 60
type_text 10.0.2.15/24
save 05-address
next "Gateway" 60
type_text 10.0.2.2
next "DNS servers" 60
type_text 10.0.2.3
next "Time zone" 60
save 06-timezone
next "Time servers" 60
next "Password for root" 60
type_text Demo-passw0rd-1
save 07-password
next "The same password again" 60
type_text Demo-passw0rd-1
next "Turn on SSH" 60
save 08-ssh
next "Run PostgreSQL on this machine" 60
save 09-postgresql
next "Install Quad now?" 60
save 10-summary
keys Tab Enter
wait_for "Quad is installed." 1800
save 11-installed
keys Enter
# -no-reboot: qemu ends at the restart; boot the installed disk.
for _ in $(seq 1 60); do tmux has-session -t "$SESSION" 2>/dev/null || break; sleep 2; done
tmux kill-session -t "$SESSION" 2>/dev/null || true
QEMU="qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 -display none -no-reboot -serial mon:stdio"
QEMU+=" -drive file=$WORK/disk.qcow2,if=virtio,format=qcow2 -netdev user,id=n0 -device virtio-net-pci,netdev=n0"
tmux new-session -d -s "$SESSION" -x 80 -y 24 "$QEMU"
say "booting the installed disk"
wait_for "fingerprint" 900
wait_for "login:" 300
save 12-installed-login
say "screens in $OUT"
