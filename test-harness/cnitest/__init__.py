"""Test topologies for CNI link plugins: network namespaces this process creates, a veth master in a "host"
namespace, container namespaces, running a plugin the way a runtime does, the `ip -j` oracle, and a registry of
the processes we started (only those are ever killed, by PID).

Used by the conformance harness, the benchmark, the leak checks, the demo and (through `python3 -m cnitest`)
the bash runtime scenarios. Python 3.11 standard library only.
"""
