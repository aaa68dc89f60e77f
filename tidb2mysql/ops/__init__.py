"""Operations: precheck, status, metrics, graceful stop and cut-over fencing.

Everything here either reads the target's meta tables (so it works from any machine, also
while the flow is down) or is a small hook the incremental flow calls. See docs/operations.md.
"""
