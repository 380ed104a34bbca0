"""Run anonymeter's evaluators on parquet files; print their risks as JSON.

Executed by tests/test_anonymeter_agreement.py with a Python that has anonymeter installed
(anonymeter 1.1.0 pins numpy<1.27, so it lives in its own virtual environment, made by
tests/anonymeter/make_venv.sh). Usage: python reference.py FOLDER SPEC_JSON
"""

import json
import sys
import warnings

import pandas as pd
from anonymeter.evaluators import (
    InferenceEvaluator,
    LinkabilityEvaluator,
    SinglingOutEvaluator,
)

warnings.simplefilter("ignore")
folder, spec = sys.argv[1], json.loads(sys.argv[2])
ori, syn, control = (pd.read_parquet(f"{folder}/{n}.parquet") for n in
                     ("train", "synth", "holdout"))
n_attacks = spec["n_attacks"]
out = {}


def as_dict(risk):
    return {"risk": float(risk.value), "ci_low": float(risk.ci[0]), "ci_high": float(risk.ci[1])}


for mode in ("univariate", "multivariate"):
    evaluator = SinglingOutEvaluator(ori=ori, syn=syn, control=control, n_attacks=n_attacks,
                                     n_cols=3, seed=0)
    out[f"singling_out_{mode}"] = as_dict(evaluator.evaluate(mode=mode).risk())
link = LinkabilityEvaluator(ori=ori, syn=syn, control=control, n_attacks=n_attacks,
                            aux_cols=(spec["columns_a"], spec["columns_b"]), n_neighbors=1)
out["linkability"] = as_dict(link.evaluate(n_jobs=1).risk())
for secret, aux in spec["inference"].items():
    inf = InferenceEvaluator(ori=ori, syn=syn, control=control, aux_cols=aux, secret=secret,
                             n_attacks=n_attacks)
    out[f"inference:{secret}"] = as_dict(inf.evaluate(n_jobs=1).risk())
print(json.dumps(out))
