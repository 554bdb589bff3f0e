#!/usr/bin/env bash
# Fail-fast supervisor for the single-container deployment (design note v2.1, "start.sh"):
# starts the AI service (here the emulators CLI standing in for it) and the tutoring API
# server, each with its own log file; waits for each to answer /health; exits non-zero as
# soon as either dies, taking the other down; on SIGTERM / SIGINT stops the API server first and
# waits for it (up to STOP_TIMEOUT_S, 10 s: it drains its in-flight turns, which still need the
# AI service), then stops the AI service (up to AI_STOP_TIMEOUT_S, 3 s); whatever is still
# running then is force-killed. A second signal force-kills at once.
#
# Environment (all optional):
#   LOG_DIR               log directory (default: $TMPDIR/korean-together-logs)
#   PORT                  API server port (default 5000)
#   EMULATORS_HOST        address the emulators bind and the server calls (default 127.0.0.1)
#   GEMINI_EMULATOR_PORT, GOOGLE_EMULATOR_PORT, WHISPER_EMULATOR_PORT, HTTP_TTS_EMULATOR_PORT,
#   OPENAI_EMULATOR_PORT  emulator ports (default 8001, 8002, 8003, 8004, 8005; Vertex AI answers
#                         on the Gemini port, OpenAI Chat Completions on its own)
#   AI_BACKEND            'emulators' (default) starts the emulators; 'real' starts only the server,
#                         which then needs GEMINI_API_KEY, GOOGLE_CLOUD_PROJECT (GOOGLE_CLOUD_LOCATION),
#                         OPENAI_API_KEY and Google credentials (it exits 2 naming what is missing)
#   STARTUP_TIMEOUT_S     how long each process may take to answer /health (default 30)
#   STOP_TIMEOUT_S        how long the API server gets to stop after SIGTERM before SIGKILL (default 10)
#   AI_STOP_TIMEOUT_S     how long the AI service then gets (default 3)
#   MONITOR_INTERVAL_S    how often the children are checked (default 1)
# Everything else (DATABASE_URL, DB_SCHEMA, ...) passes through to the server.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOG_DIR="${LOG_DIR:-${TMPDIR:-/tmp}/korean-together-logs}"
export PORT="${PORT:-5000}"
export EMULATORS_HOST="${EMULATORS_HOST:-127.0.0.1}"
export GEMINI_EMULATOR_PORT="${GEMINI_EMULATOR_PORT:-8001}"
export GOOGLE_EMULATOR_PORT="${GOOGLE_EMULATOR_PORT:-8002}"
export WHISPER_EMULATOR_PORT="${WHISPER_EMULATOR_PORT:-8003}"
export HTTP_TTS_EMULATOR_PORT="${HTTP_TTS_EMULATOR_PORT:-8004}"
export OPENAI_EMULATOR_PORT="${OPENAI_EMULATOR_PORT:-8005}"
export AI_BACKEND="${AI_BACKEND:-emulators}"
STARTUP_TIMEOUT_S="${STARTUP_TIMEOUT_S:-30}"
STOP_TIMEOUT_S="${STOP_TIMEOUT_S:-10}"
AI_STOP_TIMEOUT_S="${AI_STOP_TIMEOUT_S:-3}"
MONITOR_INTERVAL_S="${MONITOR_INTERVAL_S:-1}"

AI_PID=""
API_PID=""
STOPPING=0

log() { echo "[start.sh] $*"; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

force_kill() {
  log "$1 still running after ${2}s: force killing"
  kill -9 $AI_PID $API_PID 2>/dev/null
  exit 1
}

# stop NAME PID TIMEOUT_S: SIGTERM, then waits up to TIMEOUT_S for PID to exit; force-kills
# everything (exit 1) when it does not.
stop() {
  local name="$1" pid="$2" timeout_s="$3" waited=0
  alive "$pid" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  while alive "$pid"; do
    [ "$waited" -ge "$((timeout_s * 10))" ] && force_kill "$name" "$timeout_s"
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Stops both children and exits with $1. The API server first, and only once it has exited the
# AI service: the server's in-flight turns still call the AI service while it drains, so
# stopping both at once would fail them (502). SIGKILL after the timeouts, or at once on a
# second signal.
cleanup() {
  local code="$1"
  STOPPING=1
  trap 'log "second signal: force killing"; kill -9 $AI_PID $API_PID 2>/dev/null; exit 1' TERM INT
  stop "API server" "$API_PID" "$STOP_TIMEOUT_S"
  stop "AI service" "$AI_PID" "$AI_STOP_TIMEOUT_S"
  # Collect the exit statuses: a child that failed its own graceful stop fails the supervisor.
  local status=0
  if [ -n "$API_PID" ]; then wait "$API_PID" 2>/dev/null; s=$?; [ "$s" -ne 0 ] && [ "$s" -ne 143 ] && status=1; fi
  if [ -n "$AI_PID" ]; then wait "$AI_PID" 2>/dev/null; s=$?; [ "$s" -ne 0 ] && [ "$s" -ne 143 ] && status=1; fi
  if [ "$code" -eq 0 ] && [ "$status" -ne 0 ]; then code=1; fi
  log "all processes stopped (exit $code)"
  exit "$code"
}

on_signal() {
  [ "$STOPPING" -eq 1 ] && return
  log "received $1, shutting down gracefully"
  cleanup 0
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT

# wait_ready NAME PID URL: polls URL until it answers 2xx; fails when PID dies or time runs out.
wait_ready() {
  local name="$1" pid="$2" url="$3" i
  for ((i = 0; i < STARTUP_TIMEOUT_S * 5; i++)); do
    if curl -sf -o /dev/null --max-time 2 "$url"; then
      log "$name is ready ($url)"
      return 0
    fi
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null
      log "$name crashed during startup (exit $?); see its log"
      return 1
    fi
    sleep 0.2
  done
  log "$name did not answer $url within ${STARTUP_TIMEOUT_S}s"
  return 1
}

mkdir -p "$LOG_DIR"
cd "$ROOT"

if [ "$AI_BACKEND" = "emulators" ]; then
  log "starting AI service (emulators) -> $LOG_DIR/ai-service.log"
  node --import tsx packages/providers/src/emulators/cli.ts \
    --host "$EMULATORS_HOST" \
    --port-gemini "$GEMINI_EMULATOR_PORT" --port-grpc "$GOOGLE_EMULATOR_PORT" \
    --port-whisper "$WHISPER_EMULATOR_PORT" --port-http-tts "$HTTP_TTS_EMULATOR_PORT" \
    --port-openai "$OPENAI_EMULATOR_PORT" \
    >"$LOG_DIR/ai-service.log" 2>&1 &
  AI_PID=$!
  log "AI service started (pid $AI_PID)"
  wait_ready "AI service" "$AI_PID" "http://127.0.0.1:$GEMINI_EMULATOR_PORT/health" || cleanup 1
fi

log "starting API server -> $LOG_DIR/api-server.log"
NODE_ENV=production node --import tsx examples/server/src/main.ts >"$LOG_DIR/api-server.log" 2>&1 &
API_PID=$!
log "API server started (pid $API_PID)"
wait_ready "API server" "$API_PID" "http://127.0.0.1:$PORT/health" || cleanup 1

log "all services are running: API http://localhost:$PORT (pid $API_PID)${AI_PID:+, AI service pid $AI_PID}"

# Fail fast: the first child to die takes the whole container down, so the orchestrator restarts it.
while true; do
  if ! alive "$API_PID"; then
    wait "$API_PID" 2>/dev/null
    log "API server died (pid $API_PID, exit $?); shutting everything down"
    cleanup 1
  fi
  if [ -n "$AI_PID" ] && ! alive "$AI_PID"; then
    wait "$AI_PID" 2>/dev/null
    log "AI service died (pid $AI_PID, exit $?); shutting everything down"
    cleanup 1
  fi
  # sleep in the background so a signal's trap runs at once instead of after the sleep.
  sleep "$MONITOR_INTERVAL_S" &
  wait $! 2>/dev/null
done
