"""The dhcp end-to-end scenarios of `test-harness/dhcp/run`: `topology` (namespaces, dnsmasq, the daemon,
plugin calls, the processes we started) and `scenarios` (one function each, in `SCENARIOS`)."""
