#!/bin/sh
echo "hello from a container built through safebuild"
cat /built.txt
echo "memory limit seen inside: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max 2>/dev/null || echo unknown)"
