// Filled in by the fault-injection work (issue 5).
print("docker-fault: not built yet")
