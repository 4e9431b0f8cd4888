"""The README's pandas example: load replications.csv, vms.csv and sweep.csv, and pool two runs.

    python3 tests/scripts/pool_runs.py target/q1 target/q2 target/qsweep

Two runs of one scenario with different seeds are independent replications of the same
experiment, so their per-replication values pool into one sample (more replications, a
narrower interval). Needs pandas (pip install pandas).
"""
import sys

import pandas as pd

run_a, run_b, sweep_dir = sys.argv[1:4]

# One row per replication and metric; pool the two runs and widen to one column per metric.
reps = pd.concat(
    [pd.read_csv(f"{d}/replications.csv") for d in (run_a, run_b)], ignore_index=True
)
wide = reps.pivot_table(index=["seed", "replication"], columns="metric", values="value")
a = wide["vm_availability"]
half = 1.96 * a.std(ddof=1) / len(a) ** 0.5
print(f"pooled vm_availability over {len(a)} replications: {a.mean():.6f} +- {half:.6f}")

# One row per VM per replication: the worst VMs of the pooled runs.
vms = pd.concat(
    [pd.read_csv(f"{d}/vms.csv") for d in (run_a, run_b)], ignore_index=True
)
print(vms.dtypes.to_string())
print(vms.nsmallest(3, "availability")[["seed", "replication", "vm", "availability"]])

# One row per sweep point and metric.
sweep = pd.read_csv(f"{sweep_dir}/sweep.csv")
print(sweep[sweep.metric == "vm_availability"].iloc[:, :6].to_string(index=False))
