#!/bin/sh
# docker-entrypoint.sh: start postrider in a container (also usable without one).
#
#   docker-entrypoint.sh [serve] [--name value ...]  check the configuration, then exec the daemon
#   docker-entrypoint.sh healthcheck                 exit 0 when /healthz answers 200
#   docker-entrypoint.sh queue|sendmail|check-config|version ...   run that postrider command
#   docker-entrypoint.sh /any/program ...            exec it (debugging)
#
# Environment: POSTRIDER_CONFIG (configuration file, used when it exists),
# POSTRIDER_BIN (default /usr/sbin/postrider), POSTRIDER_HEALTH (host:port of the
# metrics endpoint, default 127.0.0.1:9125), and every POSTRIDER_<SETTING>.
set -eu

bin=${POSTRIDER_BIN:-/usr/sbin/postrider}
config=${POSTRIDER_CONFIG:-/etc/postrider/postrider.conf}

die() {
    code=$1
    shift
    echo "docker-entrypoint: $*" >&2
    exit "$code"
}

# setting NAME DEFAULT - what check-config would use: flag-less environment, then file, then DEFAULT.
setting() {
    name=$1
    upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
    value=$(printenv "POSTRIDER_$upper" || true)
    if [ -z "$value" ] && [ -r "$config" ]; then
        value=$(sed -n "s/^[[:space:]]*${name}[[:space:]]*=[[:space:]]*\([^#[:space:]]*\).*/\1/p" "$config" | tail -n 1)
    fi
    echo "${value:-$2}"
}

# writable_dir DIR NAME - create DIR if needed; fail with one clear line if we cannot write it.
writable_dir() {
    mkdir -p "$1" 2>/dev/null || die 73 "$2 $1 cannot be created (volume mounted? owned by uid $(id -u)?)"
    [ -w "$1" ] || die 73 "$2 $1 is not writable by uid $(id -u) (fix the volume's owner or fsGroup)"
}

healthcheck() {
    where=${POSTRIDER_HEALTH:-127.0.0.1:9125}
    host=${where%:*}
    port=${where##*:}
    # No curl in the image: a bare HTTP/1.0 request over bash's /dev/tcp.
    exec bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
        IFS= read -r status <&3 || exit 1
        case "$status" in "HTTP/1."?" 200 "*) exit 0 ;; *) exit 1 ;; esac' "$host" "$port"
}

cmd=${1:-serve}
case "$cmd" in
    -*) cmd=serve ;;          # only options: serve with them
    serve) if [ $# -gt 0 ]; then shift; fi ;;
    healthcheck) healthcheck ;;
    queue|sendmail|check-config|version|help) shift; exec "$bin" "$cmd" "$@" ;;
    *) exec "$@" ;;
esac

[ "$(id -u)" -ne 0 ] || [ "${POSTRIDER_ALLOW_ROOT:-}" = 1 ] ||
    die 77 "refusing to run as root: run the container as a user (the image's is postrider)"
[ -e "$config" ] && set -- -c "$config" "$@"
writable_dir "$(setting queue_dir var/queue)" queue_dir
writable_dir "$(setting mail_root var/mail)" mail_root
"$bin" check-config "$@" >&2 || exit $?
# Logs to stdout, as container runtimes expect; exec so SIGTERM reaches the daemon directly.
exec "$bin" serve "$@" 2>&1
