#!/usr/bin/env bash
# safebuild's main job, from a fresh machine: install a private Docker engine, build safebuild (release), build the
# example image in Config/examples/hello through safebuild against that engine, run it through safebuild, and stop
# the engine again (Scripts/engine.sh with; inside an engine session, that session's engine is used).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -z "${SAFEBUILD_ENGINE_SESSION:-}" ]; then
  say "installing the test bed (docker.io, busybox-static, hyperfine, …) and starting a private docker engine"
  exec bash Scripts/engine.sh with -- bash Scripts/demo.sh "$@"
fi
say "a private docker engine runs in $SAFEBUILD_ENGINE_SESSION ($DOCKER_HOST)"

say "building safebuild (release, static Swift runtime)"
safebuild=$(bash Scripts/build-release.sh)
"$safebuild" --version

# The real docker safebuild stands in front of: Debian's client, which speaks this engine's API.
export SAFEBUILD_DOCKER=$SAFEBUILD_TEST_DOCKER

say "safebuild build -t safebuild-demo/hello Config/examples/hello   (a protected command: supervised)"
"$safebuild" build -t safebuild-demo/hello Config/examples/hello

say "safebuild run --rm safebuild-demo/hello   (protected as well)"
"$safebuild" run --rm safebuild-demo/hello

say "safebuild images safebuild-demo/hello   (passed straight through to docker by exec)"
"$safebuild" images safebuild-demo/hello

say "what safebuild hands to docker for that run (--sb-dry-run prints the command line, runs nothing)"
"$safebuild" --sb-dry-run run --rm safebuild-demo/hello

say "done: the engine stops when this script ends"
