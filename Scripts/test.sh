#!/usr/bin/env bash
# Sets up and runs every test of safebuild on this machine: installs what the tests need (Scripts/engine.sh install),
# starts a private Docker engine in a fresh temporary directory, builds, runs the whole suite against that engine, and
# stops the engine whatever happened. Exits with the status of `swift test`.
#
#   bash Scripts/test.sh                 all tests
#   bash Scripts/test.sh --filter X      passes its arguments on to `swift test`
#
# With CI=true, warnings are errors and an engine that cannot be reached fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash Scripts/engine.sh install

# Short path: the socket lives under it and must stay under 108 bytes.
engine_dir=$(mktemp -d /tmp/sb-test.XXXXXX)
cleanup() {
  bash Scripts/engine.sh stop "$engine_dir" || true
  rm -rf "$engine_dir" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exports=$(bash Scripts/engine.sh start "$engine_dir") || { echo "the private docker engine did not start (its log is above)" >&2; exit 1; }
eval "$exports"
if ! "$SAFEBUILD_TEST_DOCKER" version >/dev/null; then
  echo "test: the engine at $DOCKER_HOST does not answer; see $engine_dir/dockerd.log" >&2
  exit 1
fi

flags=()
if [ "${CI:-}" = true ]; then flags=(-Xswiftc -warnings-as-errors); fi

swift build ${flags[@]+"${flags[@]}"}
SAFEBUILD_BIN="$(swift build ${flags[@]+"${flags[@]}"} --show-bin-path)/safebuild"
export SAFEBUILD_BIN

status=0
swift test ${flags[@]+"${flags[@]}"} "$@" || status=$?
exit "$status"
