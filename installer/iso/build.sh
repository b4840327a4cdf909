#!/usr/bin/env bash
#
# Builds the installer image: dist/quad-<version>-amd64.iso
#
#   npm run appliance:iso [-- --bundle FILE] [-- --version X.Y.Z] [-- --out DIR]
#
# A hybrid BIOS + UEFI ISO (CD, USB stick or virtual drive) from Debian 12
# (bookworm, bookworm-updates, bookworm-security) with the offline bundle
# installed under /opt/quad and its services enabled. The same image boots
# live (data in RAM) and installs itself to a disk (quad-install, on the
# console or unattended from the kernel command line). Nothing is fetched at
# install or first boot.
#
# Options:
#   --bundle FILE   use this offline bundle (quad-<version>-linux-x64.tar.gz)
#                   instead of building one with appliance/bundle.sh
#   --version V     version of the bundle built here (default: package.json's)
#   --out DIR       where the ISO goes (default: dist/)
#   --work DIR      scratch folder (default: a new one under $TMPDIR; about 5 GB)
#   --cache DIR     keeps the Debian root filesystem between builds (default:
#                   tmp/iso-cache; it is rebuilt when the package list changes)
#   --no-cache      always build the Debian root filesystem afresh
#   --fast          zstd instead of xz for the squashfs (faster, ~10 % larger)
#   --rootfs-only DIR   stop before the ISO: leave the finished root file
#                   system in DIR (nspawn-check.sh boots it)
#
# Needs root (mmdebstrap --mode=root, chroot, loop-free ISO tools) on Linux
# x86-64; installs its tools with apt-get when they are missing.
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

say() { printf 'iso: %s\n' "$*" >&2; }
die() {
  printf 'iso: error: %s\n' "$*" >&2
  exit 1
}

BUNDLE=""
VERSION=""
OUT="$ROOT/dist"
WORK=""
CACHE="$ROOT/tmp/iso-cache"
USE_CACHE=1
COMPRESSION=xz
ROOTFS_ONLY=""
while (($# > 0)); do
  case "$1" in
    --bundle) BUNDLE="${2:?--bundle needs a file}"; shift ;;
    --bundle=*) BUNDLE="${1#*=}" ;;
    --version) VERSION="${2:?--version needs a value}"; shift ;;
    --version=*) VERSION="${1#*=}" ;;
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    --out=*) OUT="${1#*=}" ;;
    --work) WORK="${2:?--work needs a folder}"; shift ;;
    --work=*) WORK="${1#*=}" ;;
    --cache) CACHE="${2:?--cache needs a folder}"; shift ;;
    --cache=*) CACHE="${1#*=}" ;;
    --no-cache) USE_CACHE=0 ;;
    --fast) COMPRESSION=zstd ;;
    --rootfs-only) ROOTFS_ONLY="${2:?--rootfs-only needs a folder}"; shift ;;
    -h | --help)
      sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || die "the image is built on Linux x86-64"
[[ "$(id -u)" == 0 ]] || die "run as root (mmdebstrap --mode=root and chroot need it)"

STARTED=$SECONDS
lap() { say "$1 in $((SECONDS - ${2:-$STARTED})) s"; }

# ------------------------------------------------------------------ tools

TOOLS=(mmdebstrap xorriso squashfs-tools grub-pc-bin grub-efi-amd64-bin grub-common mtools
  dosfstools qemu-system-x86 qemu-utils ovmf systemd-container debian-archive-keyring zstd)
missing=()
for package in "${TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2 ||
    { apt-get update -q </dev/null >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2; } ||
    die "could not install ${missing[*]}"
fi

# ------------------------------------------------------------------ bundle

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [[ -z "$WORK" ]]; then
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/quad-iso.XXXXXX")"
  CLEAN_WORK=1
else
  mkdir -p "$WORK"
  WORK="$(cd "$WORK" && pwd)"
  CLEAN_WORK=0
fi
CHROOT="$WORK/rootfs"
cleanup() {
  local status=$?
  for mount in dev/pts dev proc sys run; do
    mountpoint -q "$CHROOT/$mount" 2>/dev/null && umount -l "$CHROOT/$mount"
  done
  ((CLEAN_WORK)) && rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

if [[ -z "$BUNDLE" ]]; then
  say "building the offline bundle (appliance/bundle.sh)"
  args=(--out "$WORK/bundle")
  [[ -n "$VERSION" ]] && args+=(--version "$VERSION")
  if ! command -v node >/dev/null || [[ "$(node -v)" != v2[4-9]* ]]; then
    eval "$("$ROOT/bin/quad" env)"
  fi
  BUNDLE="$("$ROOT/appliance/bundle.sh" "${args[@]}" | tail -n 1)"
fi
[[ -f "$BUNDLE" ]] || die "no bundle at $BUNDLE"
BUNDLE="$(cd "$(dirname "$BUNDLE")" && pwd)/$(basename "$BUNDLE")"
BUNDLE_NAME="$(basename "$BUNDLE" .tar.gz)"
[[ "$BUNDLE_NAME" =~ ^quad-([0-9A-Za-z][0-9A-Za-z.+-]*)-linux-x64$ ]] || die "not a Quad bundle name: $BUNDLE"
VERSION="${BASH_REMATCH[1]}"
ISO_NAME="quad-$VERSION-amd64.iso"
say "Quad $VERSION from $BUNDLE"

# ------------------------------------------------------ Debian root filesystem

# The mirror of this machine (deb.debian.org unless the sources say otherwise).
MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="$(awk '/^URIs:/ && /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
SECURITY_MIRROR="${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}"

# Everything the live system, the installer and the installed appliance use.
# The initramfs is made once, under emulation it would take minutes: with
# live-boot for the live system, and the installed system boots the same one
# (its live-boot scripts act only with boot=live on the kernel command line);
# live-boot itself is purged from the root file system.
STAGE1_REVISION=2
PACKAGES=(
  systemd-sysv udev kmod dbus linux-image-amd64 live-boot initramfs-tools
  systemd-resolved systemd-timesyncd iproute2 iputils-ping ca-certificates openssl
  passwd login procps less nano whiptail tzdata logrotate nftables openssh-server
  e2fsprogs dosfstools fdisk grub-common grub2-common grub-pc-bin grub-efi-amd64-bin
  zstd libstdc++6 postgresql postgresql-client
)
KEY="$(printf '%s\n' "$STAGE1_REVISION" "${PACKAGES[@]}" "$MIRROR" "$SECURITY_MIRROR" "$(date -u +%G-%V)" | sha256sum | cut -c1-16)"
BASE_TAR="$CACHE/rootfs-$KEY.tar"
LIVE_INITRD="$CACHE/rootfs-$KEY.live-initrd"
mkdir -p "$CACHE"
if ((USE_CACHE == 0)) || [[ ! -f "$BASE_TAR" || ! -f "$LIVE_INITRD" ]]; then
  T=$SECONDS
  say "building the Debian root filesystem (mmdebstrap, ${#PACKAGES[@]} packages)"
  rm -f "$CACHE"/rootfs-*.tar "$CACHE"/rootfs-*.live-initrd
  mmdebstrap --mode=root --variant=minbase --format=tar \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
    --essential-hook='ln -s /bin/true "$1/usr/sbin/update-initramfs"' \
    --customize-hook='rm -f "$1/usr/sbin/update-initramfs"' \
    --customize-hook='chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs' \
    --customize-hook='chroot "$1" sh -c "update-initramfs -c -k \$(ls /lib/modules | sort -V | tail -n 1)"' \
    --customize-hook="cp \"\$1\"/boot/initrd.img-* '$LIVE_INITRD.part'" \
    --customize-hook='sed -i "s/^update_initramfs=yes/update_initramfs=no/" "$1/etc/initramfs-tools/update-initramfs.conf"' \
    --customize-hook='chroot "$1" apt-get purge -y -q live-boot live-boot-initramfs-tools' \
    --customize-hook='sed -i "s/^update_initramfs=no/update_initramfs=yes/" "$1/etc/initramfs-tools/update-initramfs.conf"' \
    --customize-hook='chroot "$1" sh -c "pg_lsclusters -h | while read v c rest; do pg_dropcluster \$v \$c; done"' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
    --customize-hook='chroot "$1" apt-get clean' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$BASE_TAR.part" \
    "deb $MIRROR bookworm main" \
    "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY_MIRROR bookworm-security main" >"$WORK/mmdebstrap.log" 2>&1 || {
    tail -n 40 "$WORK/mmdebstrap.log" >&2
    die "mmdebstrap failed (log: $WORK/mmdebstrap.log)"
  }
  mv "$LIVE_INITRD.part" "$LIVE_INITRD"
  mv "$BASE_TAR.part" "$BASE_TAR"
  lap "Debian root filesystem ($(du -h "$BASE_TAR" | cut -f1))" "$T"
else
  say "reusing the Debian root filesystem $BASE_TAR"
fi

# ------------------------------------------------------------ Quad on top

T=$SECONDS
rm -rf "$CHROOT"
mkdir -p "$CHROOT"
tar -C "$CHROOT" -xpf "$BASE_TAR"
mkdir -p "$CHROOT/root/quad-bundle"
tar -C "$CHROOT/root/quad-bundle" -xzf "$BUNDLE"
cp -a "$HERE/rootfs/." "$CHROOT/"
cp "$HERE/customize.sh" "$CHROOT/root/customize.sh"
mount --bind /dev "$CHROOT/dev"
mount -t devpts devpts "$CHROOT/dev/pts"
mount -t proc proc "$CHROOT/proc"
mount -t sysfs sysfs "$CHROOT/sys"
mount -t tmpfs tmpfs "$CHROOT/run"
chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  /bin/bash /root/customize.sh "$BUNDLE_NAME" "$VERSION" >"$WORK/customize.log" 2>&1 || {
  tail -n 40 "$WORK/customize.log" >&2
  die "customizing the root filesystem failed"
}
for mount in dev/pts dev proc sys run; do umount "$CHROOT/$mount"; done
rm -rf "$CHROOT/root/quad-bundle" "$CHROOT/root/customize.sh"
lap "Quad $VERSION added to the root filesystem ($(du -sh "$CHROOT" | cut -f1))" "$T"
if [[ -n "$ROOTFS_ONLY" ]]; then
  rm -rf "$ROOTFS_ONLY"
  mkdir -p "$(dirname "$ROOTFS_ONLY")"
  mv "$CHROOT" "$ROOTFS_ONLY"
  say "root file system in $ROOTFS_ONLY in $((SECONDS - STARTED)) s"
  echo "$ROOTFS_ONLY"
  exit 0
fi

# ------------------------------------------------------------------- ISO

T=$SECONDS
ISO_TREE="$WORK/iso"
mkdir -p "$ISO_TREE/live" "$ISO_TREE/boot/grub" "$ISO_TREE/quad"
kernel="$(cd "$CHROOT/boot" && ls vmlinuz-* | sort -V | tail -n 1)"
cp "$CHROOT/boot/$kernel" "$ISO_TREE/live/vmlinuz"
cp "$LIVE_INITRD" "$ISO_TREE/live/initrd.img"
# The bundle travels on the image too: an installed appliance upgrades from it.
cp "$BUNDLE" "$ISO_TREE/quad/"
[[ -f "$BUNDLE.sha256" ]] && cp "$BUNDLE.sha256" "$ISO_TREE/quad/"
printf '%s\n' "$VERSION" >"$ISO_TREE/quad/VERSION"
sed "s/@VERSION@/$VERSION/g" "$HERE/grub.cfg" >"$ISO_TREE/boot/grub/grub.cfg"

if [[ "$COMPRESSION" == xz ]]; then
  squash=(-comp xz -Xbcj x86 -b 1M)
else
  squash=(-comp zstd -Xcompression-level 15 -b 1M)
fi
mksquashfs "$CHROOT" "$ISO_TREE/live/filesystem.squashfs" -noappend -no-xattrs -quiet \
  -processors "$(nproc)" "${squash[@]}" -e boot/initrd.img.old -e boot/vmlinuz.old >"$WORK/mksquashfs.log" 2>&1 || {
  tail -n 20 "$WORK/mksquashfs.log" >&2
  die "mksquashfs failed"
}
lap "squashfs ($COMPRESSION, $(du -h "$ISO_TREE/live/filesystem.squashfs" | cut -f1))" "$T"

T=$SECONDS
grub-mkrescue -o "$OUT/$ISO_NAME.part" "$ISO_TREE" -- -volid QUAD_LIVE >"$WORK/grub-mkrescue.log" 2>&1 || {
  cat "$WORK/grub-mkrescue.log" >&2
  die "grub-mkrescue failed"
}
mv "$OUT/$ISO_NAME.part" "$OUT/$ISO_NAME"
(cd "$OUT" && sha256sum "$ISO_NAME" >"$ISO_NAME.sha256")
lap "ISO" "$T"
say "$OUT/$ISO_NAME ($(du -h "$OUT/$ISO_NAME" | cut -f1)) in $((SECONDS - STARTED)) s"
echo "$OUT/$ISO_NAME"
