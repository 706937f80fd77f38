// Filled in by the probe benchmark work.
print("probe-bench: not built yet")
