#!/usr/bin/env bash
# Fail-fast supervisor for the single-container deployment (design note v2.1, "start.sh"):
# starts the AI service (here the emulators CLI standing in for it) and the tutoring API
# server, each with its own log file; waits for each to answer /health; exits non-zero as
# soon as either dies, taking the other down; on SIGTERM / SIGINT forwards the signal to both,
# waits up to STOP_TIMEOUT_S (10 s) and then force-kills. A second signal force-kills at once.
#
# Environment (all optional):
#   LOG_DIR               log directory (default: $TMPDIR/korean-together-logs)
#   PORT                  API server port (default 5000)
#   EMULATORS_HOST        address the emulators bind and the server calls (default 127.0.0.1)
#   GEMINI_EMULATOR_PORT, GOOGLE_EMULATOR_PORT, WHISPER_EMULATOR_PORT, HTTP_TTS_EMULATOR_PORT
#                         emulator ports (default 8001, 8002, 8003, 8004)
#   AI_BACKEND            'emulators' (default) starts the emulators; 'real' starts only the server
#   STARTUP_TIMEOUT_S     how long each process may take to answer /health (default 30)
#   STOP_TIMEOUT_S        grace period after SIGTERM before SIGKILL (default 10)
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
export AI_BACKEND="${AI_BACKEND:-emulators}"
STARTUP_TIMEOUT_S="${STARTUP_TIMEOUT_S:-30}"
STOP_TIMEOUT_S="${STOP_TIMEOUT_S:-10}"
MONITOR_INTERVAL_S="${MONITOR_INTERVAL_S:-1}"

AI_PID=""
API_PID=""
STOPPING=0

log() { echo "[start.sh] $*"; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Stops both children and exits with $1. SIGTERM first; SIGKILL after STOP_TIMEOUT_S, or at
# once on a second signal.
cleanup() {
  local code="$1"
  STOPPING=1
  trap 'log "second signal: force killing"; kill -9 $AI_PID $API_PID 2>/dev/null; exit 1' TERM INT
  if alive "$API_PID"; then log "stopping API server (pid $API_PID)"; kill -TERM "$API_PID" 2>/dev/null; fi
  if alive "$AI_PID"; then log "stopping AI service (pid $AI_PID)"; kill -TERM "$AI_PID" 2>/dev/null; fi
  local waited=0
  while alive "$API_PID" || alive "$AI_PID"; do
    if [ "$waited" -ge "$((STOP_TIMEOUT_S * 10))" ]; then
      log "still running after ${STOP_TIMEOUT_S}s: force killing"
      kill -9 $AI_PID $API_PID 2>/dev/null
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
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
