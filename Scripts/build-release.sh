#!/usr/bin/env bash
# Builds the release safebuild the way it is installed: Swift's standard library and Foundation linked statically
# (start-up ~2 ms instead of ~8 ms, see README "Benchmark"), unused sections dropped. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib -Xlinker --gc-sections)
swift build "${flags[@]}" --product safebuild >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/safebuild"
