"""The baseline LP of docs/optimizer-formulation.md built with linopy and solved with
HiGHS (highspy), the stack PyPSA uses: the reference implementation for the benchmark.

It reads the same problem file as `campustwin optimize`, builds the same LP (the same
variables, bounds and rows: see optimizer/src/model.rs), solves it, writes a plan and
prints one JSON line with the phase times and the objective.

Usage: linopy_baseline.py PROBLEM.json PLAN.json [--option KEY=VALUE ...]
(HiGHS options, e.g. --option solver=ipm --option run_crossover=off).
Only the baseline: files with rigid jobs or a ramp limit are refused.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import xarray as xr
import linopy


def series(value, slots):
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return np.full(slots, float(value))


def segments(curve):
    out = []
    for (p0, f0), (p1, f1) in zip(curve, curve[1:]):
        a = (f1 - f0) / (p1 - p0)
        out.append((a, f0 - a * p0))
    return out


def build(P):
    T = P["slots"]
    dt = P["slot_minutes"] / 60.0
    halls = P["halls"]
    H = len(halls)
    hall_ids = [h["id"] for h in halls]
    jobs = P["jobs"]
    if any(j.get("rigid") for j in jobs) or "ramp_limit_kw_per_slot" in P["facility"]:
        raise SystemExit("the linopy baseline solves the baseline only (no extensions)")

    # The (job, hall, slot) triples that can exist.
    J_, H_, T_, nh = [], [], [], []
    for j, job in enumerate(jobs):
        hs = sorted(hall_ids.index(x) for x in job.get("halls", [])) or list(range(H))
        nh.append(len(hs))
        for h in hs:
            for t in range(job["release_slot"], job["deadline_slot"]):
                J_.append(j)
                H_.append(h)
                T_.append(t)
    J_, H_, T_ = np.array(J_, dtype=int), np.array(H_, dtype=int), np.array(T_, dtype=int)
    K = len(J_)
    k = pd.RangeIndex(K, name="k")
    da = lambda values: xr.DataArray(np.asarray(values, dtype=float), coords=[k])
    grp = lambda values, name: xr.DataArray(np.asarray(values), coords=[k], name=name)

    idle = np.array([h["idle_kw_per_gpu"] for h in halls])
    aux = np.array([h["aux_kw_per_busy_gpu"] for h in halls])
    gpus = np.array([h["gpus"] for h in halls], dtype=float)
    min_cap = np.array([h["min_cap_kw"] for h in halls])
    max_cap = np.array([h["max_cap_kw"] for h in halls])
    max_gpus = np.array([j["max_gpus"] for j in jobs], dtype=float)
    overhead = series(P["facility"]["overhead_fraction"], T)
    grid = P["grid"]
    limit = series(grid["import_limit_kw"], T)

    m = linopy.Model()
    ts = pd.RangeIndex(T, name="t")
    # Variables.
    g = m.add_variables(lower=0, upper=da(np.minimum(max_gpus[J_], gpus[H_])), name="g")
    e = m.add_variables(lower=0, coords=[k], name="e")
    y = m.add_variables(lower=0, coords=[k], name="y")
    u = m.add_variables(lower=0, coords=[pd.RangeIndex(len(jobs), name="job")], name="u")
    imp = m.add_variables(lower=0, upper=xr.DataArray(limit, coords=[ts]), name="imp")
    bat = P.get("battery")
    if bat:
        E = bat["energy_kwh"]
        ch = m.add_variables(lower=0, upper=bat["power_kw"], coords=[ts], name="ch")
        dis = m.add_variables(lower=0, upper=bat["power_kw"], coords=[ts], name="dis")
        # soc at the end of each slot (soc[0] is the constant E·soc_initial).
        lo = np.full(T, E * bat["soc_min"])
        lo[-1] = max(lo[-1], E * bat["soc_initial"])
        soc = m.add_variables(lower=xr.DataArray(lo, coords=[ts]), upper=E * bat["soc_max"],
                              coords=[ts], name="soc")
    gens = P.get("generators", [])
    gi = pd.RangeIndex(len(gens), name="i")
    gen = None
    if gens:
        lo = np.zeros((len(gens), T))
        hi = np.array([[x["max_kw"]] * T for x in gens])
        for i, x in enumerate(gens):
            lo[i, 0] = max(0.0, x["initial_kw"] - x["ramp_kw_per_slot"])
            hi[i, 0] = min(x["max_kw"], x["initial_kw"] + x["ramp_kw_per_slot"])
        gen = m.add_variables(lower=xr.DataArray(lo, coords=[gi, ts]),
                              upper=xr.DataArray(hi, coords=[gi, ts]), name="gen")
    dc = grid["demand_charge_per_kw"]
    peak = m.add_variables(lower=0, name="peak") if dc > 0 else None
    risk = P.get("risk") or {"cvar_alpha": 0.0, "weight": 0.0}
    lam, alpha = risk["weight"], risk["cvar_alpha"]
    scen = grid["price_scenarios"]
    si = pd.RangeIndex(len(scen), name="s")
    prob = xr.DataArray([s["probability"] for s in scen], coords=[si])
    prices = xr.DataArray(np.array([series(s["price_per_mwh"], T) for s in scen]), coords=[si, ts])

    # Cost C (for given prices per slot).
    carbon = series(grid["carbon_kg_per_mwh"], T)
    cp = grid["carbon_price_per_t"] / 1000.0
    common = 0
    if gens:
        per_mwh = xr.DataArray([x["cost_per_mwh"] + cp * x["carbon_kg_per_mwh"] for x in gens], coords=[gi])
        common = common + (per_mwh * dt / 1000.0 * gen).sum()
    if peak is not None:
        common = common + dc * peak
    pen = xr.DataArray([j["unmet_penalty_per_gpu_hour"] for j in jobs], coords=[u.coords["job"]])
    if len(jobs):
        common = common + (pen * u).sum()
    carbon_cost = xr.DataArray(cp * carbon, coords=[ts])

    def cost(price):  # price: DataArray over t (or s, t)
        return ((price + carbon_cost) * dt / 1000.0 * imp).sum("t") + common

    objective = 0
    if lam < 1:
        objective = (1 - lam) * cost((prob * prices).sum("s"))
    if lam > 0:
        zeta = m.add_variables(name="zeta")
        z = m.add_variables(lower=0, coords=[si], name="z")
        objective = objective + lam * zeta + (lam / (1 - alpha) * prob * z).sum()
        m.add_constraints(cost(prices) - zeta - z <= 0, name="cvar")
    m.add_objective(objective)

    # 1. GPUs per job and slot (jobs with one hall: the bound of g says it).
    multi = np.array(nh)[J_] > 1
    if multi.any():
        jt = grp(J_ * T + T_, "jt")
        sel = g.isel(k=np.where(multi)[0])
        used = sel.groupby(jt.isel(k=np.where(multi)[0])).sum()
        rhs = xr.DataArray(max_gpus[used.coords["jt"].values // T], coords=[used.coords["jt"]])
        m.add_constraints(used <= rhs, name="job_gpus")
    # 1. GPUs per hall and slot.
    hs = grp(H_ * T + T_, "hs")
    hall_used = g.groupby(hs).sum()
    present = hall_used.coords["hs"].values
    m.add_constraints(hall_used <= xr.DataArray(gpus[present // T], coords=[hall_used.coords["hs"]]),
                      name="hall_gpus")
    # 2. Power cap range.
    m.add_constraints(e - da(max_cap[H_]) * g <= 0, name="cap_max")
    m.add_constraints(e - da(min_cap[H_]) * g >= 0, name="cap_min", mask=da(min_cap[H_] > 0) > 0)
    # 3. Throughput, segment by segment (y <= g only where the last segment falls).
    segs = [segments(h["throughput_curve"]) for h in halls]
    for s in range(max(len(x) for x in segs)):
        a = np.array([x[s][0] if s < len(x) else 0.0 for x in segs])[H_]
        b = np.array([x[s][1] if s < len(x) else 0.0 for x in segs])[H_]
        has = np.array([s < len(x) for x in segs])[H_]
        m.add_constraints(y - da(a) * e - da(b) * g <= 0, name=f"throughput_{s}", mask=da(has) > 0)
    falls = np.array([x[-1][0] < 0 for x in segs])[H_]
    if falls.any():
        m.add_constraints(y - g <= 0, name="throughput_max", mask=da(falls) > 0)
    # 4. Work.
    work = (dt * y).groupby(grp(J_, "job")).sum() + u
    m.add_constraints(work >= xr.DataArray([j["work_gpu_hours"] for j in jobs], coords=[u.coords["job"]]),
                      name="work")
    # 5–6. Hall IT power and cooling: busy part Σ (e + (aux − idle)·g) per (hall, slot).
    busy = e + da(aux[H_] - idle[H_]) * g
    busy_hs = busy.groupby(hs).sum()
    cap = np.array([series(h["cooling_capacity_kw"], T) for h in halls])
    idle_kw = idle * gpus
    room = (cap - idle_kw[:, None]).reshape(-1)
    if (np.delete(room, present) < 0).any():
        raise SystemExit("infeasible: idle load above cooling in a slot without jobs")
    m.add_constraints(busy_hs <= xr.DataArray(room[present], coords=[busy_hs.coords["hs"]]), name="cooling")
    # 7–8. Balance.
    busy_t = (da((1 + overhead)[T_]) * busy).groupby(grp(T_, "t")).sum()
    busy_t = busy_t.reindex(t=range(T))
    lhs = imp - busy_t
    if bat:
        lhs = lhs - ch + dis
    if gens:
        lhs = lhs + gen.sum("i")
    rhs = xr.DataArray((1 + overhead) * idle_kw.sum() + P["facility"]["fixed_kw"], coords=[ts])
    m.add_constraints(lhs == rhs, name="balance")
    # 9. Peak.
    if peak is not None:
        m.add_constraints(peak - imp >= 0, name="peak")
    # 10. Battery.
    if bat:
        ec, ed = bat["charge_efficiency"], bat["discharge_efficiency"]
        first = xr.DataArray(np.r_[E * bat["soc_initial"], np.zeros(T - 1)], coords=[ts])
        m.add_constraints(soc - soc.shift(t=1) - ec * dt * ch + dt / ed * dis == first, name="soc")
    # 11. Generator ramps (slot 0 is a bound; a ramp of at least max_kw never binds).
    if gens:
        ramp = xr.DataArray([x["ramp_kw_per_slot"] for x in gens], coords=[gi])
        binds = xr.DataArray(np.array([[x["ramp_kw_per_slot"] < x["max_kw"]] * T for x in gens]), coords=[gi, ts])
        binds[:, 0] = False
        step = gen - gen.shift(t=1)
        m.add_constraints(step <= ramp, name="ramp_up", mask=binds)
        m.add_constraints(step >= -ramp, name="ramp_down", mask=binds)
    return m, {"J": J_, "H": H_, "T": T_, "hall_ids": hall_ids, "present": present}


def write_plan(P, m, idx, path, status):
    T = P["slots"]
    sol = lambda name: m.variables[name].solution.values
    g, e = sol("g"), sol("e")
    cap = np.where(g > 1e-7, e / np.where(g > 1e-7, g, 1.0), np.nan)
    duals = {name: (-m.constraints[name].dual.values).tolist() for name in ("hall_gpus", "cooling")}
    plan = {
        "status": status,
        "objective": float(m.objective.value),
        "import_kw": sol("imp").tolist(),
        "battery_charge_kw": sol("ch").tolist() if "ch" in m.variables else [],
        "battery_discharge_kw": sol("dis").tolist() if "dis" in m.variables else [],
        "generator_kw": sol("gen").tolist() if "gen" in m.variables else [],
        "triples": {"job": idx["J"].tolist(), "hall": idx["H"].tolist(), "slot": idx["T"].tolist(),
                    "gpus": g.tolist(), "power_cap_kw_per_gpu": [None if np.isnan(c) else c for c in cap]},
        "unmet_gpu_hours": sol("u").tolist(),
        "shadow_prices": {"hall_slot": idx["present"].tolist(), **duals},
    }
    with open(path, "w") as f:
        json.dump(plan, f)


def main():
    args = sys.argv[1:]
    problem_path, plan_path = args[0], args[1]
    options = {}
    for i, a in enumerate(args):
        if a == "--option":
            key, value = args[i + 1].split("=", 1)
            options[key] = value
    t0 = time.perf_counter()
    with open(problem_path) as f:
        P = json.load(f)
    t1 = time.perf_counter()
    m, idx = build(P)
    t2 = time.perf_counter()
    status, condition = m.solve(solver_name="highs", progress=False, **options)
    t3 = time.perf_counter()
    if condition != "optimal":
        raise SystemExit(f"linopy/HiGHS: {status} {condition}")
    write_plan(P, m, idx, plan_path, condition)
    t4 = time.perf_counter()
    print(json.dumps({
        "objective": float(m.objective.value), "read_s": t1 - t0, "build_s": t2 - t1,
        "solve_s": t3 - t2, "write_s": t4 - t3, "total_s": t4 - t0,
        "rows": int(m.ncons), "columns": int(m.nvars),
    }))


if __name__ == "__main__":
    main()
