#!/usr/bin/env bash
#
# Installs, upgrades or removes Quad from an unpacked offline bundle.
#
#   sudo ./install.sh [--port N] [--hostnames "quad.school.edu.cn,10.0.0.5"]
#   sudo ./install.sh --upgrade
#   sudo ./install.sh --uninstall [--purge]
#
# Options:
#   --root DIR      install under DIR instead of / (DIR/opt/quad, DIR/var/lib/quad,
#                   DIR/etc/quad); systemctl is not called
#   --no-systemd    do not install the systemd unit; print how to start with quadctl
#   --no-user       run Quad as the user running this script instead of creating
#                   the `quad` system user (root is then not required)
#   --port N        HTTPS port written into a new quad.env (default 8443)
#   --hostnames L   names and IPs for the HTTPS certificate, written into a new quad.env
#   --upgrade       install this version next to the current one, back up the
#                   database, migrate, switch, check /readyz; roll back on failure
#   --uninstall     stop and remove the programs; keep data and configuration
#   --purge         with --uninstall: also delete data, configuration and the user
#   --ready-timeout S   seconds to wait for /readyz (default 120)
#
# Layout: /opt/quad/<version> with a `current` link, /var/lib/quad (storage
# root, 0700), /etc/quad/quad.env (0640, written once, never overwritten).
set -euo pipefail
umask 022

BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf 'quad-install: %s\n' "$*" >&2; }
die() {
  printf 'quad-install: error: %s\n' "$*" >&2
  exit 1
}

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

PREFIX=""
SYSTEMD=1
CREATE_USER=1
PORT_OPTION=""
HOSTNAMES_OPTION=""
MODE=install
PURGE=0
READY_TIMEOUT=120

while (($# > 0)); do
  case "$1" in
    --root) PREFIX="${2:?--root needs a folder}"; shift ;;
    --root=*) PREFIX="${1#*=}" ;;
    --no-systemd) SYSTEMD=0 ;;
    --no-user) CREATE_USER=0 ;;
    --port) PORT_OPTION="${2:?--port needs a number}"; shift ;;
    --port=*) PORT_OPTION="${1#*=}" ;;
    --hostnames) HOSTNAMES_OPTION="${2:?--hostnames needs a list}"; shift ;;
    --hostnames=*) HOSTNAMES_OPTION="${1#*=}" ;;
    --upgrade) MODE=upgrade ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --ready-timeout) READY_TIMEOUT="${2:?--ready-timeout needs seconds}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

((PURGE == 0)) || [[ "$MODE" == uninstall ]] || die "--purge goes with --uninstall"
if [[ -n "$PORT_OPTION" ]]; then
  [[ "$PORT_OPTION" =~ ^[0-9]+$ ]] && ((PORT_OPTION >= 1 && PORT_OPTION <= 65535)) || die "--port must be 1 to 65535"
fi
if [[ -n "$HOSTNAMES_OPTION" ]]; then
  [[ "$HOSTNAMES_OPTION" =~ ^[A-Za-z0-9.:,-]+$ ]] || die "--hostnames takes names and IPs separated by commas"
fi
if [[ -n "$PREFIX" ]]; then
  mkdir -p "$PREFIX"
  PREFIX="$(cd "$PREFIX" && pwd)"
  [[ "$PREFIX" != / ]] || PREFIX=""
fi

VERSION="$(cat "$BUNDLE/VERSION" 2>/dev/null || true)"
[[ -n "$VERSION" ]] || die "$BUNDLE/VERSION is missing: run install.sh from an unpacked Quad bundle"

OPT="$PREFIX/opt/quad"
DEST="$OPT/$VERSION"
CURRENT="$OPT/current"
STORAGE="$PREFIX/var/lib/quad"
ETC="$PREFIX/etc/quad"
ENV_FILE="$ETC/quad.env"
UNIT_FILE="$PREFIX/etc/systemd/system/quad.service"
LOGROTATE_FILE="$PREFIX/etc/logrotate.d/quad"
# systemctl acts on this machine only when installing into its real root.
SYSTEMCTL=0
((SYSTEMD)) && [[ -z "$PREFIX" ]] && SYSTEMCTL=1

if ((CREATE_USER)); then
  RUN_USER=quad
  [[ "$(id -u)" == 0 ]] || die "run as root (sudo), or pass --no-user to run Quad as $(id -un)"
else
  RUN_USER="$(id -un)"
fi
if ((SYSTEMCTL)); then
  command -v systemctl >/dev/null || die "systemctl not found: pass --no-systemd and start Quad with quadctl"
fi

# ----------------------------------------------------------------- helpers

# Runs a command as the user Quad runs as.
as_quad() {
  if ((CREATE_USER)) && [[ "$(id -un)" != quad ]]; then
    runuser -u quad -- "$@"
  else
    "$@"
  fi
}

# quadctl of an installed version ($1), with the installed configuration.
quadctl_of() {
  local dir="$1"
  shift
  QUAD_ENV_FILE="$ENV_FILE" "$dir/quadctl" "$@"
}

# `node ace ...` of an installed version ($1), as the Quad user, with only
# the installed configuration in the environment.
ace_of() {
  local dir="$1"
  shift
  as_quad env -i PATH="/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 HOME="$STORAGE" \
    QUAD_ENV_FILE="$ENV_FILE" "$dir/quadctl" ace "$@"
}

# A value from quad.env (empty when unset).
env_value() {
  (
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    printf '%s' "${!1:-}"
  )
}

verify_bundle() {
  [[ -f "$BUNDLE/SHA256SUMS" ]] || die "$BUNDLE/SHA256SUMS is missing: the bundle is incomplete"
  say "verifying the bundle's checksums"
  (cd "$BUNDLE" && sha256sum --quiet --strict -c SHA256SUMS) >&2 ||
    die "the bundle in $BUNDLE does not match its SHA256SUMS: download it again"
  "$BUNDLE/runtime/bin/node" -e 'process.exit(0)' 2>/dev/null ||
    die "the bundled Node.js does not run on this machine ($(uname -m))"
}

# Copies the bundle to $DEST (atomically: a half-copied version never exists
# under its final name).
copy_bundle() {
  if [[ "$BUNDLE" == "$DEST" ]]; then return 0; fi
  mkdir -p "$OPT"
  if [[ -e "$DEST" ]]; then
    if [[ "$(readlink -f "$CURRENT" 2>/dev/null || true)" == "$(readlink -f "$DEST")" ]]; then
      say "version $VERSION is already installed in $DEST"
      return 0
    fi
    rm -rf "$DEST"
  fi
  local partial="$DEST.partial.$$"
  rm -rf "$partial"
  cp -a "$BUNDLE/." "$partial"
  # The programs belong to root: the Quad user cannot change the code it runs.
  ((CREATE_USER)) && chown -R root:root "$partial"
  chmod 0755 "$partial"
  mv -T "$partial" "$DEST"
  say "installed version $VERSION in $DEST"
}

# Points `current` at a version, atomically.
switch_to() {
  ln -sfn "$1" "$OPT/.current.$$"
  mv -T "$OPT/.current.$$" "$CURRENT"
}

ensure_user() {
  ((CREATE_USER)) || return 0
  if ! id quad >/dev/null 2>&1; then
    say "creating the system user quad"
    useradd --system --user-group --home-dir "$STORAGE" --no-create-home \
      --shell /usr/sbin/nologin --comment "Quad campus appliance" quad
  fi
}

ensure_storage() {
  mkdir -p "$STORAGE"
  ((CREATE_USER)) && chown quad:quad "$STORAGE"
  chmod 0700 "$STORAGE"
}

# Writes quad.env once; an existing file is the operator's and is kept.
ensure_env_file() {
  mkdir -p "$ETC"
  chmod 0750 "$ETC"
  ((CREATE_USER)) && chown root:quad "$ETC"
  if [[ -f "$ENV_FILE" ]]; then
    say "keeping the existing configuration $ENV_FILE"
    [[ -z "$PORT_OPTION" || "$(env_value PORT)" == "$PORT_OPTION" ]] ||
      say "note: --port $PORT_OPTION is ignored; PORT is set in $ENV_FILE"
    return 0
  fi
  local hostnames_line="# QUAD_HOSTNAMES=quad.school.edu.cn,10.0.0.5"
  [[ -n "$HOSTNAMES_OPTION" ]] && hostnames_line="QUAD_HOSTNAMES=$HOSTNAMES_OPTION"
  local partial="$ENV_FILE.partial.$$"
  cat >"$partial" <<EOF
# Quad configuration, read by quad.service (systemd EnvironmentFile) and by
# quadctl. Written once by install.sh and never overwritten: edit it, then
# restart Quad (systemctl restart quad). One KEY=value per line, no quotes.
# Every variable is described in docs/self-hosting.md.
NODE_ENV=production
QUAD_STORAGE=$STORAGE
PM2_HOME=$STORAGE/pm2
PORT=${PORT_OPTION:-8443}
HOST=0.0.0.0
QUAD_WEB_INSTANCES=2
LOG_LEVEL=info
$hostnames_line
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
EOF
  chmod 0640 "$partial"
  ((CREATE_USER)) && chown root:quad "$partial"
  mv "$partial" "$ENV_FILE"
  say "wrote $ENV_FILE"
}

install_unit() {
  ((SYSTEMD)) || return 0
  mkdir -p "$(dirname "$UNIT_FILE")"
  sed -e "s#@QUAD_PREFIX@#$PREFIX#g" -e "s#@QUAD_USER@#$RUN_USER#g" \
    "$DEST/appliance/quad.service" >"$UNIT_FILE.partial.$$"
  chmod 0644 "$UNIT_FILE.partial.$$"
  mv "$UNIT_FILE.partial.$$" "$UNIT_FILE"
  if [[ -d "$PREFIX/etc/logrotate.d" || -z "$PREFIX" ]]; then
    mkdir -p "$(dirname "$LOGROTATE_FILE")"
    sed -e "s#@QUAD_STORAGE@#$STORAGE#g" -e "s#@QUAD_USER@#$RUN_USER#g" \
      "$DEST/appliance/logrotate.conf" >"$LOGROTATE_FILE"
    chmod 0644 "$LOGROTATE_FILE"
  fi
  if ((SYSTEMCTL)); then
    systemctl daemon-reload
    systemctl enable quad.service >/dev/null
  fi
}

service_running() {
  if ((SYSTEMCTL)); then
    systemctl is-active --quiet quad.service
  else
    [[ -x "$CURRENT/quadctl" ]] && quadctl_of "$CURRENT" status --quiet
  fi
}

# $1: the installed version folder whose programs start (the `current` link
# normally points there).
service_start() {
  if ((SYSTEMCTL)); then
    systemctl start quad.service
  else
    as_quad env QUAD_ENV_FILE="$ENV_FILE" "$1/quadctl" start
  fi
}

service_stop() {
  if ((SYSTEMCTL)); then
    systemctl stop quad.service || true
  elif [[ -x "$CURRENT/quadctl" ]]; then
    as_quad env QUAD_ENV_FILE="$ENV_FILE" "$CURRENT/quadctl" stop || true
  fi
}

wait_ready() {
  quadctl_of "$1" ready --timeout "$READY_TIMEOUT"
}

first_run_url() {
  local port host scheme=https tls
  port="$(env_value PORT)"
  host="$(env_value QUAD_HOSTNAMES)"
  host="${host%%,*}"
  [[ -n "$host" ]] || host="$(hostname -f 2>/dev/null || hostname)"
  tls="$(env_value QUAD_TLS)"
  case "$tls" in false | 0 | no | off) scheme=http ;; esac
  printf '%s://%s:%s/' "$scheme" "$host" "${port:-8443}"
}

# ----------------------------------------------------------------- install

do_install() {
  if [[ -L "$CURRENT" && "$(readlink "$CURRENT")" != "$VERSION" ]]; then
    die "Quad $(readlink "$CURRENT") is installed in $OPT: pass --upgrade to move to $VERSION"
  fi
  verify_bundle
  ensure_user
  ensure_storage
  ensure_env_file
  copy_bundle
  say "migrating the database"
  ace_of "$DEST" migration:run --force >&2 || die "the database migrations failed (see above)"
  say "preparing the storage root $STORAGE"
  ace_of "$DEST" storage:prepare >&2 || die "storage:prepare failed (see above)"
  switch_to "$VERSION"
  install_unit

  local url
  url="$(first_run_url)"
  echo
  if ((SYSTEMCTL)); then
    systemctl restart quad.service
    wait_ready "$DEST" || die "Quad did not become ready: journalctl -u quad"
    echo "Quad $VERSION is installed and running (systemctl status quad)."
  else
    echo "Quad $VERSION is installed in $DEST."
    echo "  Start            $CURRENT/quadctl start"
    ((SYSTEMD)) && echo "                   or enable $UNIT_FILE"
  fi
  echo "  Open             $url  (the setup wizard appears on the first visit)"
  echo "  CA certificate   $STORAGE/pki/ca.crt (import it into the campus browsers)"
  echo "  Configuration    $ENV_FILE"
  echo "  Commands         $CURRENT/quadctl ace <command>   e.g. appliance:status"
}

# ----------------------------------------------------------------- upgrade

# What the backup step did, for the restore: "command FILE" or "sqlite DIR"
# or "pg FILE".
BACKUP_KIND=""
BACKUP_PATH=""

has_backup_command() {
  [[ -f "$1/app/commands/backup_create.js" && -f "$1/app/commands/backup_restore.js" ]]
}

# The secret of the backup the upgrade takes: the school's backup passphrase
# or key file when quad.env names one (QUAD_BACKUP_PASSPHRASE_FILE,
# QUAD_BACKUP_KEY_FILE), else a passphrase made once for upgrades, readable
# by the Quad user only.
backup_secret_flags() {
  local key_file passphrase_file
  key_file="$(env_value QUAD_BACKUP_KEY_FILE)"
  passphrase_file="$(env_value QUAD_BACKUP_PASSPHRASE_FILE)"
  if [[ -n "$key_file" ]]; then
    printf '%s\n' --key-file "$key_file"
  elif [[ -n "$passphrase_file" ]]; then
    printf '%s\n' --passphrase-file "$passphrase_file"
  else
    local file="$ETC/upgrade-backup.passphrase"
    if [[ ! -f "$file" ]]; then
      (umask 077 && head -c 32 /dev/urandom | base64 >"$file.partial.$$")
      ((CREATE_USER)) && chown quad:quad "$file.partial.$$"
      mv "$file.partial.$$" "$file"
    fi
    printf '%s\n' --passphrase-file "$file"
  fi
}

# Takes a backup of the database with the old version's programs while Quad
# is stopped. Uses `backup:create` when the old version has it; otherwise a
# copy of the SQLite file or a pg_dump.
take_backup() {
  local old_dir="$1" stamp dir
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  dir="$STORAGE/backups"
  as_quad mkdir -p "$dir"
  if has_backup_command "$old_dir"; then
    BACKUP_KIND=command
    BACKUP_PATH="$dir/pre-upgrade-$stamp-$OLD_VERSION-to-$VERSION.qbk"
    say "backing up (backup:create) to $BACKUP_PATH"
    local secret
    mapfile -t secret < <(backup_secret_flags)
    ace_of "$old_dir" backup:create --output "$BACKUP_PATH" "${secret[@]}" >&2
    return
  fi
  if [[ "$(env_value DB_CONNECTION)" == pg ]]; then
    command -v pg_dump >/dev/null || die "pg_dump is needed to back up PostgreSQL before the upgrade (apt-get install postgresql-client)"
    BACKUP_KIND=pg
    BACKUP_PATH="$dir/pre-upgrade-$stamp-$OLD_VERSION-to-$VERSION.pgdump"
    say "backing up PostgreSQL (pg_dump) to $BACKUP_PATH"
    pg_env pg_dump --format=custom --file "$BACKUP_PATH"
    return
  fi
  BACKUP_KIND=sqlite
  BACKUP_PATH="$dir/pre-upgrade-$stamp-$OLD_VERSION-to-$VERSION"
  local file
  file="$(sqlite_file)"
  say "backing up the SQLite database to $BACKUP_PATH"
  as_quad mkdir -p "$BACKUP_PATH"
  # Quad is stopped: the database file and its WAL are consistent together.
  local part
  [[ -f "$file" ]] || {
    say "no SQLite database at $file"
    return 1
  }
  for part in "$file" "$file-wal" "$file-shm"; do
    if [[ -f "$part" ]]; then as_quad cp -p "$part" "$BACKUP_PATH/" || return 1; fi
  done
}

sqlite_file() {
  local file
  file="$(env_value SQLITE_FILE)"
  printf '%s' "${file:-$STORAGE/db/quad.sqlite3}"
}

# Runs a PostgreSQL client tool with the connection from quad.env.
pg_env() {
  (
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
    export PGHOST="${PG_HOST:-127.0.0.1}" PGPORT="${PG_PORT:-5432}" PGUSER="${PG_USER:-postgres}"
    export PGDATABASE="${PG_DATABASE:-quad}"
    [[ -n "${PG_PASSWORD:-}" ]] && export PGPASSWORD="$PG_PASSWORD"
    "$@"
  )
}

restore_backup() {
  local old_dir="$1"
  case "$BACKUP_KIND" in
    command)
      local secret
      mapfile -t secret < <(backup_secret_flags)
      ace_of "$old_dir" backup:restore "$BACKUP_PATH" --force "${secret[@]}" >&2
      ;;
    pg)
      pg_env psql -v ON_ERROR_STOP=1 -q -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >&2 &&
        pg_env pg_restore --no-owner --single-transaction --dbname "$(env_value PG_DATABASE || true)" \
          "$BACKUP_PATH" >&2
      ;;
    sqlite)
      local file base
      file="$(sqlite_file)"
      base="$(basename "$file")"
      rm -f "$file-wal" "$file-shm"
      as_quad cp -p "$BACKUP_PATH/$base" "$file" &&
        for part in wal shm; do
          [[ -f "$BACKUP_PATH/$base-$part" ]] && as_quad cp -p "$BACKUP_PATH/$base-$part" "$file-$part"
        done
      ;;
    *) return 0 ;;
  esac
}

OLD_VERSION=""

# Undoes an upgrade after $1 (what failed): database from the backup, link
# back, old version started. Exits non-zero in any case.
roll_back() {
  local reason="$1" old_dir="$OPT/$OLD_VERSION"
  say "UPGRADE FAILED: $reason"
  say "rolling back to $OLD_VERSION"
  service_stop
  if [[ -n "$BACKUP_KIND" ]]; then
    if restore_backup "$old_dir"; then
      say "restored the database from $BACKUP_PATH"
    else
      say "could not restore the database from $BACKUP_PATH: restore it by hand (docs/self-hosting.md)"
    fi
  fi
  switch_to "$OLD_VERSION"
  # The failed version goes; the bundle can be installed again once fixed.
  [[ "$DEST" != "$old_dir" ]] && rm -rf "$DEST"
  service_start "$old_dir" || true
  if wait_ready "$old_dir"; then
    die "the upgrade to $VERSION failed ($reason); Quad $OLD_VERSION is running again with the database as it was before"
  fi
  die "the upgrade to $VERSION failed ($reason) and Quad $OLD_VERSION did not become ready after the rollback: see the logs in $STORAGE/logs; the backup is $BACKUP_PATH"
}

do_upgrade() {
  [[ -L "$CURRENT" ]] || die "no Quad installation in $OPT: run install.sh without --upgrade"
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE is missing"
  OLD_VERSION="$(readlink "$CURRENT")"
  [[ "$OLD_VERSION" != "$VERSION" ]] || die "Quad $VERSION is already the current version"
  local old_dir="$OPT/$OLD_VERSION"
  [[ -d "$old_dir" ]] || die "the current version's folder $old_dir is missing"
  verify_bundle
  ensure_user
  copy_bundle

  say "stopping Quad $OLD_VERSION"
  service_stop
  take_backup "$old_dir" || roll_back "the backup failed"

  say "migrating the database with $VERSION"
  ace_of "$DEST" migration:run --force >&2 || roll_back "a database migration of $VERSION failed"
  ace_of "$DEST" storage:prepare >&2 || roll_back "storage:prepare of $VERSION failed"
  switch_to "$VERSION"
  install_unit
  say "starting Quad $VERSION"
  service_start "$DEST" || roll_back "Quad $VERSION did not start"
  wait_ready "$DEST" || roll_back "Quad $VERSION did not pass /readyz within $READY_TIMEOUT s"

  echo
  echo "Quad is upgraded from $OLD_VERSION to $VERSION and ready."
  echo "  Backup taken before   $BACKUP_PATH"
  echo "  Previous version      $old_dir (kept; remove it when you no longer need it)"
}

# --------------------------------------------------------------- uninstall

do_uninstall() {
  if [[ -L "$CURRENT" || -d "$OPT" ]]; then
    say "stopping Quad"
    service_stop
  fi
  if ((SYSTEMCTL)) && [[ -f "$UNIT_FILE" ]]; then
    systemctl disable quad.service >/dev/null 2>&1 || true
  fi
  rm -f "$UNIT_FILE" "$LOGROTATE_FILE"
  ((SYSTEMCTL)) && systemctl daemon-reload
  rm -rf "$OPT"
  if ((PURGE)); then
    rm -rf "$STORAGE" "$ETC"
    if ((CREATE_USER)) && id quad >/dev/null 2>&1; then userdel quad || true; fi
    echo "Quad is removed, with its data ($STORAGE) and configuration ($ETC)."
  else
    echo "Quad's programs are removed. Kept: the data in $STORAGE and the configuration in $ETC"
    echo "(install.sh --uninstall --purge deletes them)."
  fi
}

case "$MODE" in
  install) do_install ;;
  upgrade) do_upgrade ;;
  uninstall) do_uninstall ;;
esac
