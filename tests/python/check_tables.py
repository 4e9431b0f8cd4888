"""Reads hasim's tables with pandas and polars (run in the venv of setup-data-venv.sh) and checks
every column's type against README's "Results" table: integer, string or float, whatever the
run. A column README does not list is an error too.

usage: check_tables.py RUN_DIR SWEEP_DIR INT_AXIS DURATION_AXIS
"""
import sys

import pandas as pd
import polars as pl

INT, STR, FLOAT = "integer", "string", "float"


def vms(col):
    if col in ("replication", "seed"):
        return INT
    if col in ("vm", "workload", "host"):
        return STR
    if col in ("availability", "downtime_min_per_year") or col.endswith("_s"):
        return FLOAT
    return None


def hosts(col):
    if col in ("replication", "seed", "failures"):
        return INT
    if col in ("host", "rack", "fault_domain", "zone", "host_type"):
        return STR
    if col in ("down_s", "observed_s", "availability"):
        return FLOAT
    return None


def replications(col):
    return {"replication": INT, "seed": INT, "metric": STR, "value": FLOAT}.get(col)


def sweep(int_axis, duration_axis):
    plain = lambda k: k.replace(".", "_").replace("-", "_")  # noqa: E731

    def kind(col):
        if col in ("point", "replications", "seed", int_axis, plain(int_axis)):
            return INT
        if col in ("metric", "unit", duration_axis, plain(duration_axis)):
            return STR
        if col in ("mean", "ci95_low", "ci95_high", plain(duration_axis) + "_s"):
            return FLOAT
        return None

    return kind


def pandas_kind(dtype):
    if pd.api.types.is_integer_dtype(dtype):
        return INT
    if pd.api.types.is_float_dtype(dtype):
        return FLOAT
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        return STR
    return str(dtype)


def polars_kind(dtype):
    if dtype.is_integer():
        return INT
    if dtype.is_float():
        return FLOAT
    if dtype == pl.String:
        return STR
    return str(dtype)


def check(path, expect):
    problems = []
    p = pd.read_csv(path)
    q = pl.read_csv(path)
    assert list(p.columns) == q.columns, (path, list(p.columns), q.columns)
    for col in p.columns:
        want = expect(col)
        if want is None:
            problems.append(f"{path}: column {col} is not in README's table")
            continue
        got_pd, got_pl = pandas_kind(p[col].dtype), polars_kind(q[col].dtype)
        if got_pd != want or got_pl != want:
            problems.append(f"{path}: {col} is {want} in README, pandas {got_pd}, polars {got_pl}")
    print(f"{path}: {len(p)} rows, {len(p.columns)} columns checked")
    return problems


run_dir, sweep_dir, int_axis, duration_axis = sys.argv[1:5]
problems = []
problems += check(f"{run_dir}/vms.csv", vms)
problems += check(f"{run_dir}/hosts.csv", hosts)
problems += check(f"{run_dir}/replications.csv", replications)
problems += check(f"{sweep_dir}/sweep.csv", sweep(int_axis, duration_axis))
if problems:
    sys.exit("\n".join(problems))
print("all column types as README says")
