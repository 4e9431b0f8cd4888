"""hasim's tables as a researcher loads them: pandas and polars (pinned, in the venv of
tests/scripts/setup-data-venv.sh: target/data-venv, or $HASIM_DATA_VENV) read replications.csv,
vms.csv, hosts.csv and sweep.csv of fresh runs with the column types README's "Results" table
documents (check_tables.py), README's "Loading results in pandas" block runs as written, and
pooling two shards' replications.csv gives the merged run's mean.

Needs the release binary (`cargo test --release` builds it). Without the venv or the binary the
tests are skipped with a loud message — except under CI (HASIM_CI=1), where that is a failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV = os.environ.get("HASIM_DATA_VENV", os.path.join(ROOT, "target", "data-venv"))
PYTHON = os.path.join(VENV, "bin", "python")
HASIM = os.path.join(ROOT, "target", "release", "hasim")
SCENARIO = os.path.join(ROOT, "scenarios", "quickstart.toml")
INT_AXIS = "workloads.web.count"
DURATION_AXIS = "failures.host.time_between.mean"

MISSING = [p for p in (PYTHON, HASIM) if not os.path.exists(p)]
if MISSING:
    if os.environ.get("HASIM_CI") == "1":
        raise RuntimeError("HASIM_CI=1 but %s is missing: run tests/scripts/setup.sh and "
                           "cargo build --release" % MISSING)
    sys.stderr.write("\n!!! SKIPPING table-loading tests: missing %s\n!!! run "
                     "tests/scripts/setup.sh and cargo build --release\n\n" % MISSING)


def hasim(*args):
    o = subprocess.run([HASIM, *args], capture_output=True, text=True)
    assert o.returncode == 0, (args, o.stderr[-3000:])


def mean_of(summary_dirs, metric):
    values = []
    for d in summary_dirs:
        with open(os.path.join(d, "summary.json")) as f:
            values += [r["metrics"][metric] for r in json.load(f)["per_replication"]]
    return sum(values) / len(values), len(values)


@unittest.skipIf(MISSING, "no data venv or hasim binary")
class Tables(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hasim-tables-")
        t = lambda *p: os.path.join(cls.tmp, *p)  # noqa: E731
        cls.t = staticmethod(t)
        for seed in (1, 2):
            hasim("run", SCENARIO, "--seed", str(seed), "-n", "3", "--out", t("target", f"q{seed}"))
        hasim("sweep", SCENARIO, "-n", "2", "--out", t("sweep"),
              "--grid", f"{DURATION_AXIS}=2000h,8760h", "--grid", f"{INT_AXIS}=[1000, 1200]")
        hasim("run", SCENARIO, "-n", "4", "--replications", "0..2", "--out", t("s1"))
        hasim("run", SCENARIO, "-n", "4", "--replications", "2..4", "--out", t("s2"))
        hasim("merge", t("s1"), t("s2"), "--out", t("merged"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def venv(self, *args, cwd=None):
        o = subprocess.run([PYTHON, *args], capture_output=True, text=True, cwd=cwd)
        self.assertEqual(o.returncode, 0, o.stdout + o.stderr)
        return o.stdout

    def test_column_types_are_readmes_in_pandas_and_polars(self):
        out = self.venv(os.path.join(HERE, "check_tables.py"), self.t("target", "q1"),
                        self.t("sweep"), INT_AXIS, DURATION_AXIS)
        self.assertIn("all column types as README says", out)

    def test_readmes_pandas_example_runs_as_written_and_pools_two_runs(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        section = readme.split("### Loading results in pandas", 1)[1]
        block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
        # Its paths are relative to the repository: the runs under target/, the committed sweep.
        os.makedirs(self.t("results", "quickstart"), exist_ok=True)
        link = self.t("results", "quickstart", "sweep")
        if not os.path.exists(link):
            os.symlink(os.path.join(ROOT, "results", "quickstart", "sweep"), link)
        with open(self.t("readme_example.py"), "w") as f:
            f.write(block)
        out = self.venv("readme_example.py", cwd=self.tmp)
        pooled_mean, half = map(float, out.splitlines()[0].split())
        truth, n = mean_of([self.t("target", "q1"), self.t("target", "q2")], "vm_availability")
        self.assertEqual(n, 6)
        self.assertAlmostEqual(pooled_mean, truth, places=12)
        self.assertGreater(half, 0.0)

    def test_two_shards_pooled_give_the_merged_runs_mean(self):
        code = (
            "import json, pandas as pd, sys\n"
            "r = pd.concat([pd.read_csv(f'{d}/replications.csv') for d in sys.argv[1:3]])\n"
            "v = r[r.metric == 'vm_availability'].value\n"
            "print(len(v), repr(float(v.mean())))\n"
        )
        out = self.venv("-c", code, self.t("s1"), self.t("s2"))
        n, mean = out.split()
        with open(self.t("merged", "summary.json")) as f:
            merged = json.load(f)["metrics"]["vm_availability"]["mean"]
        self.assertEqual(int(n), 4)
        self.assertAlmostEqual(float(mean), merged, places=12)


if __name__ == "__main__":
    unittest.main()
