"""What this machine charges for fresh memory: microseconds per 4 KiB page on the first write to a new anonymous
mapping (a page fault: the kernel, and on a virtual machine the host, back the page) against a second write to
the same pages. `python3 first_touch_cost.py [MiB] [rounds]`; with `--hugepage` the mapping is madvised
MADV_HUGEPAGE (transparent huge pages in "madvise" mode; /proc/meminfo's AnonHugePages says if they engaged)."""
import mmap
import sys
import time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
size = (int(args[0]) if args else 256) << 20
rounds = int(args[1]) if len(args) > 1 else 3
pages = size // 4096
for _ in range(rounds):
    m = mmap.mmap(-1, size)
    if "--hugepage" in sys.argv:
        m.madvise(mmap.MADV_HUGEPAGE)
    t = time.perf_counter()
    for off in range(0, size, 4096):
        m[off] = 1
    first = time.perf_counter() - t
    t = time.perf_counter()
    for off in range(0, size, 4096):
        m[off] = 2
    second = time.perf_counter() - t
    m.close()
    print(f"first touch {first / pages * 1e6:.2f} us/page, second touch {second / pages * 1e6:.2f} us/page")
