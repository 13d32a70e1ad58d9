#!/usr/bin/env python3
"""Peer benchmark: scipy.stats.qmc.PoissonDisk at the counts of benches/sampler.rs.

scipy's sampler is slow (about 2,000 points/s in DOMAIN §6), so only counts up to
--max-timed points are timed; larger counts are extrapolated linearly from the largest
timed one and marked as such. Prints one line per count:
    scipy <requested> <points> <seconds> <timed|extrapolated>
Python is only a peer for measurement, never part of Follicle.
"""
import argparse
import math
import time

from scipy.stats import qmc


def run(points: int, seed: int) -> tuple[int, float]:
    # Radius in the unit square for about `points` points: Bridson-style patterns
    # hold about 0.70 points per r^2.
    radius = math.sqrt(0.70 / points)
    engine = qmc.PoissonDisk(d=2, radius=radius, seed=seed)
    start = time.perf_counter()
    sample = engine.fill_space()
    return len(sample), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="10000,100000,1000000")
    parser.add_argument("--max-timed", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rate = None
    for requested in (int(c) for c in args.counts.split(",")):
        if requested <= args.max_timed or rate is None:
            n, seconds = run(requested, args.seed)
            rate = n / seconds
            print(f"scipy {requested} {n} {seconds:.6f} timed", flush=True)
        else:
            print(f"scipy {requested} {requested} {requested / rate:.6f} extrapolated", flush=True)


if __name__ == "__main__":
    main()
