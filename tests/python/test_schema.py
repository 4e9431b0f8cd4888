"""schema/scenario.schema.json (`hasim schema`) checked by the real `jsonschema` validator
(pinned, in the venv of tests/scripts/setup-data-venv.sh: target/data-venv, or
$HASIM_DATA_VENV): it is a valid draft-07 schema, every bundled scenario under scenarios/
(recursively, parsed with Python's tomllib) validates, and broken copies (an unknown key, a wrong
type, a bad enum value, a duration without a unit) are refused — by the schema and by
`hasim validate` alike.

Without the venv the test is skipped with a loud message, except under CI (HASIM_CI=1).
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV = os.environ.get("HASIM_DATA_VENV", os.path.join(ROOT, "target", "data-venv"))
PYTHON = os.path.join(VENV, "bin", "python")
HASIM = os.path.join(ROOT, "target", "release", "hasim")

MISSING = [p for p in (PYTHON, HASIM) if not os.path.exists(p)]
if MISSING:
    if os.environ.get("HASIM_CI") == "1":
        raise RuntimeError("HASIM_CI=1 but %s is missing: run tests/scripts/setup.sh and "
                           "cargo build --release" % MISSING)
    sys.stderr.write("\n!!! SKIPPING schema tests: missing %s\n!!! run "
                     "tests/scripts/setup.sh and cargo build --release\n\n" % MISSING)

# Runs in the venv: prints one line per file, "OK" or the first error.
CHECK = r"""
import json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[2:]:
    errors = sorted(v.iter_errors(tomllib.load(open(f, "rb"))), key=str)
    print(f, "OK" if not errors else "BAD " + errors[0].message.replace("\n", " "))
"""

# (what is broken, text to replace in quickstart.toml, replacement)
BROKEN = [
    ("unknown key", 'seed = ', 'sede = 1\nseed = '),
    ("wrong type", 'seed = ', 'seed = "one"\n#'),
    ("bad enum value", 'name = "', 'name = "zz"\n#'),
    ("duration without a unit", 'horizon = "', 'horizon = 5\n#'),
]


def check(files):
    o = subprocess.run([PYTHON, "-c", CHECK, os.path.join(ROOT, "schema", "scenario.schema.json"),
                        *files], capture_output=True, text=True)
    assert o.returncode == 0, o.stderr
    return dict(line.split(" ", 1) for line in o.stdout.splitlines())


@unittest.skipIf(MISSING, "missing %s" % MISSING)
class SchemaTest(unittest.TestCase):
    def test_every_bundled_scenario_validates(self):
        files = []
        for d, _, names in os.walk(os.path.join(ROOT, "scenarios")):
            files += [os.path.join(d, n) for n in names if n.endswith(".toml")]
        self.assertGreater(len(files), 10)
        for f, verdict in check(sorted(files)).items():
            self.assertEqual(verdict, "OK", f)

    def test_broken_scenarios_are_refused(self):
        import tempfile
        base = open(os.path.join(ROOT, "scenarios", "quickstart.toml")).read()
        with tempfile.TemporaryDirectory() as tmp:
            files = {}
            for i, (what, old, new) in enumerate(BROKEN):
                if what == "bad enum value":
                    # the policy name: the last `name = "` of [policy] in quickstart
                    head, sep, tail = base.rpartition('[policy]\nname = "')
                    self.assertTrue(sep, "quickstart has no [policy] name")
                    text = head + '[policy]\nname = "zz"\n#' + tail
                else:
                    self.assertIn(old, base, what)
                    text = base.replace(old, new, 1)
                path = os.path.join(tmp, "broken%d.toml" % i)
                with open(path, "w") as f:
                    f.write(text)
                files[path] = what
            verdicts = check(sorted(files))
            for path, what in files.items():
                self.assertTrue(verdicts[path].startswith("BAD"), (what, verdicts[path]))
                o = subprocess.run([HASIM, "validate", path], capture_output=True, text=True)
                self.assertNotEqual(o.returncode, 0, (what, o.stdout))


if __name__ == "__main__":
    unittest.main()
