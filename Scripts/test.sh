#!/usr/bin/env bash
# Sets up and runs every test of safebuild on this machine: installs what the tests need, starts a private Docker
# engine in a fresh temporary directory (Scripts/engine.sh with), builds, runs the whole suite against that engine, and
# stops the engine whatever happened. Exits with the status of `swift test`.
#
#   bash Scripts/test.sh                 all tests
#   bash Scripts/test.sh --filter X      passes its arguments on to `swift test`
#
# With CI=true, warnings are errors and an engine that cannot be reached fails the run. Inside an engine session
# (`bash Scripts/engine.sh with [--dockerd-arg …] -- bash Scripts/test.sh …`) the tests use that session's engine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Run again inside an engine session, unless this is that run.
[ -n "${SAFEBUILD_ENGINE_SESSION:-}" ] || exec bash Scripts/engine.sh with -- bash Scripts/test.sh "$@"

flags=()
if [ "${CI:-}" = true ]; then flags=(-Xswiftc -warnings-as-errors); fi

swift build ${flags[@]+"${flags[@]}"}
SAFEBUILD_BIN="$(swift build ${flags[@]+"${flags[@]}"} --show-bin-path)/safebuild"
export SAFEBUILD_BIN

exec swift test ${flags[@]+"${flags[@]}"} "$@"
