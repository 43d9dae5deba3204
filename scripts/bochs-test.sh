#!/usr/bin/env bash
# bochs-test.sh ISO MARKER TIMEOUT [LOG]
# Boot ISO headless in Bochs 2.7 and wait for the guest to end.
#   MARKER   extended regular expression (grep -E) that the COM1 log must
#            contain, e.g. '# ktest: passed=[0-9]+ failed=[0-9]+'
#   TIMEOUT  seconds of wall time before Bochs is killed
#   LOG      COM1 log (default build/bochs-test/<ISO name>.log); beside it
#            <LOG minus .log>.e9.log (port 0xE9), .bochs.log (Bochs' own log,
#            its exit message at the end) and .bochsrc (the configuration)
# The run ends when the guest writes "Shutdown" to port 0x8900 (Bochs then
# exits by itself), when MARKER appears (Bochs gets a second to exit, then
# is stopped), when Bochs exits for another reason (a panic, e.g. a triple
# fault), or at TIMEOUT.  Exit status 0 only if the COM1 log has MARKER and
# no "not ok" TAP line; 1 otherwise; 2 on a usage error.  The last line
# printed says why the run ended and how long it took.
#
# Bochs has no display-less GUI here: the rfb (VNC) display with timeout=0
# stands in, listening on port 5900 or the next free one.  Two Bochs
# starting at the same moment race for that port and the loser dies, so
# each run gets its own network namespace when it can (unshare -n as root,
# unshare -rn otherwise); without namespaces, runs are serialized with a lock.
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 ISO MARKER TIMEOUT [LOG]" >&2
    exit 2
fi
iso=$1
marker=$2
limit=$3
here=$(cd "$(dirname "$0")/.." && pwd)
log=${4:-$here/build/bochs-test/$(basename "${iso%.iso}").log}
base=${log%.log}
e9log=$base.e9.log
bxlog=$base.bochs.log
rcfile=$base.bochsrc
[ -r "$iso" ] || { echo "$0: cannot read $iso" >&2; exit 2; }
case $limit in ''|*[!0-9]*) echo "$0: TIMEOUT must be whole seconds" >&2; exit 2 ;; esac
mkdir -p "$(dirname "$log")"
rm -f "$log" "$e9log" "$bxlog"
: > "$log"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-bochs.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
cpu=${BOCHS_CPU:-}
sed -e "/^#/!s|@ISO@|$(abs "$iso")|" -e "/^#/!s|@COM1@|$(abs "$log")|" -e "/^#/!s|@LOG@|$(abs "$bxlog")|" \
    -e '/^#/!s|@DISPLAY@|rfb, options="timeout=0"|' -e '/^#/!s|@MAGIC@|0|' \
    ${cpu:+-e "/^#/!s|model=[a-z0-9_]*|model=$cpu|"} "$here/grub/bochsrc.in" > "$rcfile"
# The debugger starts stopped: continue.  Should it stop again (it cannot
# on a magic breakpoint, disabled above), it reads standard input, finds
# /dev/null's end and quits instead of waiting.
echo c > "$tmp/rc"

if unshare -n true 2>/dev/null; then
    isolate=(unshare -n)
elif unshare -rn true 2>/dev/null; then
    isolate=(unshare -rn)
else
    isolate=()
    exec 9>"${TMPDIR:-/tmp}/mica-bochs-rfb.lock"
    flock 9
fi

start=$(date +%s%N)
elapsed() { echo $(( ($(date +%s%N) - start) / 1000000 )); }  # milliseconds
seen() { tr -d '\r' < "$log" | grep -Eq -- "$marker"; }

"${isolate[@]}" bochs -f "$rcfile" -rc "$tmp/rc" < /dev/null > "$tmp/stdout" 2> "$tmp/stderr" &
pid=$!
how=
status=
while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" && status=0 || status=$?
        pid=
        if grep -q 'Shutdown port: shutdown requested' "$tmp/stderr"; then
            how="guest shut down (port 0x8900)"
        else
            how="Bochs exited, status $status: $(grep -v '^=*$' "$tmp/stderr" | tail -n 1)"
        fi
        break
    fi
    if seen; then
        # The shutdown usually follows the marker at once: let it come.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            sleep 0.5
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            pid=
            how="marker seen, Bochs stopped"
            break
        fi
        continue
    fi
    if [ "$(elapsed)" -ge $((limit * 1000)) ]; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
        how="timed out after $limit s, Bochs killed"
        break
    fi
    sleep 0.2
done
ms=$(elapsed)

# Bochs' standard output is its banner, the debugger's first and last
# lines, and between them every byte the guest wrote to port 0xE9.
sed -E -e '1,/^\(0\) \[0x[0-9a-f]+\]/d' -e 's/\(0\)\.\[[0-9]+\] \[0x[0-9a-f]+\] .*$//' \
    "$tmp/stdout" > "$e9log"
cat "$tmp/stderr" >> "$bxlog"

text=$(tr -d '\r' < "$log")
oks=$(grep -c '^ok [0-9]' <<< "$text" || true)
bad=$(grep -c '^not ok [0-9]' <<< "$text" || true)
verdict=FAIL
if grep -Eq -- "$marker" <<< "$text" && [ "$bad" -eq 0 ]; then
    verdict=PASS
fi
printf 'bochs-test: %s %s: %s; %d ok, %d not ok; %d.%01d s; log %s\n' "$verdict" "$(basename "$iso")" \
    "$how" "$oks" "$bad" $((ms / 1000)) $((ms % 1000 / 100)) "$log"
[ "$verdict" = PASS ]
