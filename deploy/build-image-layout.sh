#!/usr/bin/env bash
# Builds the container image's file layout WITHOUT Docker and runs it, to prove what the image
# holds where no Docker engine is available (CI, this project's machines).
#
# It reads ./Dockerfile and, for each stage, maps the stage's WORKDIR (/app) to its own scratch
# folder, then:
#   build, deps : runs every COPY (from the repository) and RUN line, with the stage's ARG defaults;
#   runtime     : runs every COPY --from=<stage>, takes its ENV, skips its RUN lines (system
#                 packages: the host must have espeak-ng, as the image installs it) and USER;
# then starts the runtime stage's CMD from the runtime folder (production dependencies only) and
# runs the image's HEALTHCHECK command against it, plus /readyz and /metrics, checks that no
# devDependency is in the layout and that the logs are JSON lines, sends SIGTERM and expects exit 0.
#
# Usage: deploy/build-image-layout.sh [scratch-dir]   (default: a new temp dir, removed at the end;
# KEEP_LAYOUT=1 keeps it). Exit code 0 when the layout starts and answers, 1 otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DOCKERFILE="$ROOT/Dockerfile"
OWN_SCRATCH=1
[ -n "${1:-}" ] && OWN_SCRATCH=0
SCRATCH="${1:-$(mktemp -d "${TMPDIR:-/tmp}/statecall-image.XXXXXX")}"
mkdir -p "$SCRATCH"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP_LAYOUT:-0}" != 1 ] && [ "$OWN_SCRATCH" = 1 ]; then rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
fail() { echo "image layout: FAIL: $*" >&2; exit 1; }
say() { echo "image layout: $*"; }

# Instructions, one per line, `\` continuations joined, comments dropped.
instructions() {
  awk '
    /^[[:space:]]*#/ && cont == "" { next }
    { line = cont $0; cont = "" }
    /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); cont = line " "; next }
    line ~ /^[[:space:]]*$/ { next }
    { print line }
  ' "$DOCKERFILE"
}

# The build context, as Docker sends it: the repository less what .dockerignore names.
CONTEXT="$SCRATCH/context"
rm -rf "$CONTEXT" && mkdir -p "$CONTEXT"
EXCLUDES="$SCRATCH/context-excludes"
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' -e '/^!/d' "$ROOT/.dockerignore" |
  while IFS= read -r p; do
    case "$p" in
      '**/'*) echo "./${p#\*\*/}"; echo "./*/${p#\*\*/}" ;;
      *) echo "./$p" ;;
    esac
  done >"$EXCLUDES"
tar -C "$ROOT" --anchored --wildcards --exclude-from="$EXCLUDES" -cf - . | tar -C "$CONTEXT" -xf -

stage=""
declare -A STAGE_DIR=()
workdir_of() { echo "$SCRATCH/$1"; }
RUNTIME_ENV=()
CMD_JSON=""
HEALTH_JSON=""
ARGS_ENV=()

while IFS= read -r line; do
  read -r op rest <<<"$line"
  case "$op" in
    FROM)
      stage="$(sed -n 's/.* AS \([A-Za-z0-9_-]*\).*/\1/p' <<<"$rest")"
      [ -n "$stage" ] || fail "every FROM needs 'AS <name>': $line"
      STAGE_DIR[$stage]="$(workdir_of "$stage")"
      rm -rf "${STAGE_DIR[$stage]}" && mkdir -p "${STAGE_DIR[$stage]}"
      ARGS_ENV=()
      say "stage $stage -> ${STAGE_DIR[$stage]}"
      ;;
    ARG)
      ARGS_ENV+=("$rest")
      ;;
    WORKDIR)
      [ "$rest" = /app ] || fail "WORKDIR must be /app (it maps to the stage's folder): $line"
      ;;
    COPY)
      dir="${STAGE_DIR[$stage]}"
      if [[ "$rest" == --from=* ]]; then
        from="${rest%% *}"; from="${from#--from=}"; rest="${rest#* }"
        read -r src dest <<<"$rest"
        [[ "$src" == /app/* ]] || fail "COPY --from sources must be under /app: $line"
        srcpath="${STAGE_DIR[$from]}/${src#/app/}"
        mkdir -p "$(dirname "$dir/$dest")"
        rm -rf "${dir:?}/${dest#./}"
        cp -a "$srcpath" "$dir/${dest#./}"
      else
        read -r -a parts <<<"$rest"
        dest="${parts[-1]}"; unset 'parts[-1]'
        for src in "${parts[@]}"; do
          if [[ "$dest" == */ ]]; then mkdir -p "$dir/$dest"; cp -a "$CONTEXT/$src" "$dir/$dest"
          else mkdir -p "$(dirname "$dir/${dest#./}")"; cp -a "$CONTEXT/$src" "$dir/${dest#./}"; fi
        done
      fi
      ;;
    RUN)
      if [ "$stage" = runtime ]; then
        say "runtime: skipped RUN (system packages and /data; the host provides them): ${rest:0:80}..."
        continue
      fi
      say "$stage: RUN $rest"
      (cd "${STAGE_DIR[$stage]}" && env "${ARGS_ENV[@]}" bash -euo pipefail -c "$rest") \
        || fail "$stage: RUN failed: $rest"
      ;;
    ENV)
      [ "$stage" = runtime ] && read -r -a RUNTIME_ENV <<<"$rest"
      ;;
    CMD)
      [ "$stage" = runtime ] && CMD_JSON="$rest"
      ;;
    HEALTHCHECK)
      [ "$stage" = runtime ] && HEALTH_JSON="$(sed -n 's/.* CMD \(\[.*\]\)$/\1/p' <<<"$rest")"
      ;;
    USER | VOLUME | EXPOSE | STOPSIGNAL) ;;
    *) fail "instruction not understood by this script: $op" ;;
  esac
done < <(instructions)

APP="${STAGE_DIR[runtime]:-}"
[ -n "$APP" ] || fail "no runtime stage"
[ -n "$CMD_JSON" ] && [ -n "$HEALTH_JSON" ] || fail "the runtime stage needs CMD and HEALTHCHECK (exec form)"
json_args() { node -e 'for (const a of JSON.parse(process.argv[1])) process.stdout.write(a + "\0")' "$1"; }
mapfile -d '' CMD_ARGV < <(json_args "$CMD_JSON")
mapfile -d '' HEALTH_ARGV < <(json_args "$HEALTH_JSON")

# Production dependencies only: no devDependency may be in the runtime layout.
for dev in $(node -e 'console.log(Object.keys(require(process.argv[1]).devDependencies).join(" "))' "$APP/package.json"); do
  [ ! -e "$APP/node_modules/$dev" ] || fail "devDependency $dev is in the runtime layout"
done
[ -f "$APP/${CMD_ARGV[1]}" ] || fail "${CMD_ARGV[1]} missing from the layout"
[ -f "$APP/client/dist/index.html" ] || fail "client/dist missing from the layout"
ls "$APP"/supabase/migrations/*.sql >/dev/null || fail "migrations missing from the layout"
command -v espeak-ng >/dev/null || say "note: espeak-ng is not installed on this host (the image installs it)"
say "runtime layout: $(du -sh "$APP" | cut -f1) ($(du -sh "$APP/node_modules" | cut -f1) node_modules, $(ls "$APP/node_modules" | wc -l) top-level packages)"

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
DATA="$SCRATCH/data"
mkdir -p "$DATA"
LOG="$SCRATCH/server.log"
say "starting: ${CMD_ARGV[*]} (PORT=$PORT)"
(
  cd "$APP"
  exec env -i PATH="$PATH" HOME="$SCRATCH" "${RUNTIME_ENV[@]}" PORT="$PORT" HOST=127.0.0.1 DATA_DIR="$DATA" \
    "${CMD_ARGV[@]}"
) >"$LOG" 2>&1 &
SERVER_PID=$!

healthy=""
for _ in $(seq 1 240); do
  if (cd "$APP" && env PORT="$PORT" "${HEALTH_ARGV[@]}") 2>/dev/null; then healthy=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; fail "the server exited during start-up"; }
  sleep 0.5
done
[ -n "$healthy" ] || { tail -20 "$LOG" >&2; fail "HEALTHCHECK did not pass within 120 s"; }
say "HEALTHCHECK passed: $(node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>console.log(t))' "http://127.0.0.1:$PORT/healthz")"
node -e 'fetch(process.argv[1]).then(async r=>{console.log("image layout: /readyz "+r.status+" "+await r.text()); process.exit(r.status===200?0:1)})' \
  "http://127.0.0.1:$PORT/readyz" || fail "/readyz is not 200"
node -e 'fetch(process.argv[1]).then(async r=>{const t=await r.text(); const ok=r.status===200&&t.includes("statecall_calls_active 0"); console.log("image layout: /metrics "+r.status+", "+t.split("\n").length+" lines"); process.exit(ok?0:1)})' \
  "http://127.0.0.1:$PORT/metrics" || fail "/metrics does not answer"

kill -TERM "$SERVER_PID"
code=0
wait "$SERVER_PID" || code=$?
SERVER_PID=""
[ "$code" = 0 ] || { tail -20 "$LOG" >&2; fail "exit code $code after SIGTERM (expected 0)"; }
# Production logs: JSON lines (the startup banner aside).
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("{"));
  const parsed = lines.map((l) => JSON.parse(l));
  if (!parsed.some((l) => l.msg === "statecall ready") || !parsed.some((l) => l.msg === "drain complete")) process.exit(1);
  console.log(`image layout: ${parsed.length} JSON log lines, "statecall ready" ... "drain complete"`);
' "$LOG" || { cat "$LOG" >&2; fail "the logs are not JSON lines"; }
say "OK: the image layout starts with production dependencies only, passes its HEALTHCHECK and exits 0 on SIGTERM"
