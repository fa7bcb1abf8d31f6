#!/usr/bin/env python3
"""OR-Tools CP-SAT model of a Bridges brokerage problem, for comparison with
the HiGHS MILP in `bridges-worker bench brokerage`.

It reads the same problem JSON (CONTRACTS.md), solves the same hard rules
1 to 8 and the same primary goal (days covered per priority tier,
lexicographic, as one objective with exact weights) within a time limit,
and prints one JSON object: status, coverage, seconds, assignments.
It has no secondary goals. Exit 3 when ortools is not installed.
"""
import argparse
import json
import math
import sys
import time

try:
    from ortools.sat.python import cp_model
except ImportError:  # the bench installs it with pip and retries
    print("ortools is not installed (pip install ortools)", file=sys.stderr)
    sys.exit(3)


def km(a, b):
    return math.sqrt((a["easting"] - b["easting"]) ** 2 + (a["northing"] - b["northing"]) ** 2) / 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problem", required=True)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--gap", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    began = time.monotonic()
    with open(args.problem) as f:
        prob = json.load(f)
    periods = prob["periods"]
    schools = {s["urn"]: s for s in prob["schools"]}
    pracs = prob["practitioners"]
    reqs = prob["requests"]
    policy = prob["policy"]
    limit = policy.get("max_distance_km")
    forbid_trust = policy.get("same_trust", "forbid") == "forbid"
    conflicts = {(c["practitioner"], c["urn"]) for c in prob.get("conflicts", [])}
    pins = {}
    for pin in prob.get("pinned", []):
        for t, d in pin["days"].items():
            key = (pin["request"], pin["practitioner"], t)
            pins[key] = pins.get(key, 0) + int(d)

    def eligible(r, p):
        school = schools[r["urn"]]
        home = schools[p["home_urn"]]
        if r["need"] not in p["specialisms"] or school["phase"] not in p["phases"]:
            return False
        if p["designation"] not in r["designations"]:
            return False
        if home["urn"] == school["urn"] or (p["id"], r["urn"]) in conflicts:
            return False
        if forbid_trust and home.get("trust") and home.get("trust") == school.get("trust"):
            return False
        return limit is None or km(home, school) <= limit

    m = cp_model.CpModel()
    x = {}  # (ri, pi, t) -> var
    y = {}
    demand = [0, 0, 0, 0]
    for r in reqs:
        demand[r["priority"] - 1] += int(sum(r["days"].values()))
    weights = [1, 1, 1, 1]
    for k in (2, 1, 0):
        weights[k] = weights[k + 1] * (demand[k + 1] + 1)
    tier_terms = []
    for ri, r in enumerate(reqs):
        pairs = []
        for pi, p in enumerate(pracs):
            pinned = {t: pins.get((r["id"], p["id"], t), 0) for t in periods}
            ok = eligible(r, p)
            if not ok and not any(pinned.values()):
                continue
            xs = []
            for t in periods:
                d = int(r["days"].get(t, 0))
                c = int(p["capacity"].get(t, 0))
                ub = min(d, c) if ok else 0
                ub = max(ub, pinned[t])
                if ub == 0:
                    continue
                v = m.NewIntVar(pinned[t], ub, f"x_{ri}_{pi}_{t}")
                x[(ri, pi, t)] = v
                xs.append((v, ub))
                tier_terms.append((weights[r["priority"] - 1], v))
            if xs:
                pairs.append((pi, xs, any(pinned.values())))
        for t in periods:
            vs = [x[(ri, pi, t)] for pi, _, _ in pairs if (ri, pi, t) in x]
            if len(vs) > 1:
                m.Add(sum(vs) <= int(r["days"].get(t, 0)))
        if policy.get("single_practitioner") and len(pairs) > 1:
            ys = []
            for pi, xs, is_pinned in pairs:
                b = m.NewBoolVar(f"y_{ri}_{pi}")
                if is_pinned:
                    m.Add(b == 1)
                for v, ub in xs:
                    m.Add(v <= ub * b)
                ys.append(b)
            m.AddAtMostOne(ys)
    by_prac = {}
    for (ri, pi, t), v in x.items():
        by_prac.setdefault(pi, []).append((t, v))
    cost_terms = []
    for pi, items in by_prac.items():
        p = pracs[pi]
        for t in periods:
            vs = [v for tt, v in items if tt == t]
            if len(vs) > 1:
                m.Add(sum(vs) <= int(p["capacity"].get(t, 0)))
        if p.get("max_days") is not None:
            m.Add(sum(v for _, v in items) <= int(p["max_days"]))
        # Day rates in pence keep the budget row integral.
        cost_terms += [(int(round(p["day_rate"] * 100)), v) for _, v in items]
    if policy.get("budget") is not None and cost_terms:
        m.Add(sum(c * v for c, v in cost_terms) <= int(math.floor(policy["budget"] * 100 + 1e-6)))
    m.Maximize(sum(w * v for w, v in tier_terms))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, args.time_limit - (time.monotonic() - began))
    solver.parameters.num_search_workers = args.workers
    solver.parameters.random_seed = 0
    if args.gap is not None:
        solver.parameters.relative_gap_limit = args.gap
    status = solver.Solve(m)
    coverage = [0, 0, 0, 0]
    assignments = {}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (ri, pi, t), v in x.items():
            d = solver.Value(v)
            if d > 0:
                r = reqs[ri]
                coverage[r["priority"] - 1] += d
                key = (r["id"], pracs[pi]["id"])
                assignments.setdefault(key, {})[t] = d
    out = {
        "status": solver.StatusName(status),
        "coverage": coverage,
        "objective": solver.ObjectiveValue() if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else 0,
        "bound": solver.BestObjectiveBound(),
        "seconds": time.monotonic() - began,
        "assignments": [
            {"request": r, "practitioner": p, "days": days} for (r, p), days in sorted(assignments.items())
        ],
    }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
