"""The macvtap plugin's end-to-end test (test-harness/macvtap-e2e): topology and frame probes, and the cases."""
