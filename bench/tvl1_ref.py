#!/usr/bin/env python3
"""OpenCV counterpart of `mimanet flow`: DualTVL1 (cv2.optflow) on a list of image pairs.

  python3 bench/tvl1_ref.py --pairs LIST [--threads N] [--json] [--param NAME=VALUE ...]

Each line of LIST is `ONSET APEX OUT.flo`; images are read as grey (cv2.IMREAD_GRAYSCALE) and the
flow from ONSET to APEX is written as Middlebury .flo (cv2.writeOpticalFlow). With --json the last
line of output is {"pairs": [{"out": ..., "ms": ..., "cpuMs": ...}, ...]}, `ms` being the time of calc()
alone, decoding excluded, and `cpuMs` the process's CPU time during it: the shape of
`mimanet flow --pairs LIST --json`. The parameters default to
OpenCV's (tau 0.25, lambda 0.15, theta 0.3, 5 scales, 5 warps, epsilon 0.01, 30 inner and 10 outer
iterations, scale step 0.8, median filtering 5); --param sets one, e.g. --param scaleStep=0.5.
Needs Debian's python3-opencv (4.x, with the contrib module optflow).
"""
import argparse
import json
import sys
import time

try:
    import cv2
except ImportError:
    sys.stderr.write('bench/tvl1_ref.py: OpenCV is not installed (Debian: apt-get install -y python3-opencv)\n')
    sys.exit(3)
if not hasattr(cv2, 'optflow'):
    sys.stderr.write('bench/tvl1_ref.py: this OpenCV has no optflow module (Debian python3-opencv has it)\n')
    sys.exit(3)

SETTERS = {
    'tau': 'setTau', 'lambda': 'setLambda', 'theta': 'setTheta', 'scales': 'setScalesNumber',
    'warps': 'setWarpingsNumber', 'epsilon': 'setEpsilon', 'innerIterations': 'setInnerIterations',
    'outerIterations': 'setOuterIterations', 'scaleStep': 'setScaleStep', 'medianFiltering': 'setMedianFiltering',
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pairs', required=True, help='file with one "ONSET APEX OUT.flo" per line')
    ap.add_argument('--threads', type=int, default=0, help='cv2.setNumThreads (0: OpenCV decides)')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--param', action='append', default=[], help='NAME=VALUE, e.g. scaleStep=0.5')
    a = ap.parse_args()
    if a.threads > 0:
        cv2.setNumThreads(a.threads)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    for p in a.param:
        name, _, value = p.partition('=')
        if name not in SETTERS:
            sys.exit(f'--param {p}: unknown parameter {name!r}; expected one of {", ".join(SETTERS)}')
        getattr(tvl1, SETTERS[name])(int(value) if name in ('scales', 'warps', 'innerIterations', 'outerIterations', 'medianFiltering') else float(value))
    results = []
    with open(a.pairs) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    for k, parts in enumerate(lines):
        if len(parts) != 3:
            sys.exit(f'{a.pairs}, line {k + 1}: expected "ONSET APEX OUT.flo", got {" ".join(parts)!r}')
        i0 = cv2.imread(parts[0], cv2.IMREAD_GRAYSCALE)
        i1 = cv2.imread(parts[1], cv2.IMREAD_GRAYSCALE)
        if i0 is None or i1 is None:
            sys.exit(f'{a.pairs}, line {k + 1}: cannot read {parts[0] if i0 is None else parts[1]}')
        c0 = time.process_time()
        t0 = time.perf_counter()
        flow = tvl1.calc(i0, i1, None)
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        cv2.writeOpticalFlow(parts[2], flow)
        results.append({'out': parts[2], 'ms': ms, 'cpuMs': cpu_ms})
    if a.json:
        print(json.dumps({'pairs': results, 'threads': cv2.getNumThreads(), 'opencv': cv2.__version__}))


if __name__ == '__main__':
    main()
