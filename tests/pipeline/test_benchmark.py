"""The memory figures the benchmark reports: the whole process tree, RSS and PSS."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from clincoder.benchmark import TreeMemoryPeak, tree_memory_mb


def test_the_tree_includes_child_processes():
    alone_rss, alone_pss = tree_memory_mb(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(200 * 2**20); time.sleep(30)"])
    try:
        deadline = time.time() + 20
        while time.time() < deadline and tree_memory_mb(os.getpid())[0] < alone_rss + 150:
            time.sleep(0.2)
        rss, pss = tree_memory_mb(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert rss >= alone_rss + 150  # the child's 200 MB are counted
    assert 0 < pss <= rss + 1 or pss == alone_pss == 0  # PSS never exceeds RSS (0 where unsupported)


def test_the_peak_is_sampled_while_the_block_runs():
    with TreeMemoryPeak(every=0.05) as peak:
        block = bytearray(100 * 2**20)
        for i in range(0, len(block), 4096):  # touch every page so it is resident
            block[i] = 1
        time.sleep(0.3)
    assert peak.rss >= 100 and peak.rss >= peak.pss > 0
    del block
