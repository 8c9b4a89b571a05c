"""Benchmarks of nic-autoattach against the bundled emulator (``make bench``, ``python -m bench``).

Cold start, import time, compute API requests per event, throughput with 20 ms of API
latency, CPU per event and peak RSS of the function process. See bench/README.md.
"""
