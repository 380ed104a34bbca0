from __future__ import annotations

from synthdata.split import split


def test_split_is_seeded_stratified_and_disjoint(small_typed, schema):
    train, held = split(small_typed, schema, holdout=0.2, seed=7)
    assert len(train) + len(held) == len(small_typed)
    assert abs(len(held) - 0.2 * len(small_typed)) <= 2
    ids = set(train["customer_id"])
    assert ids.isdisjoint(set(held["customer_id"]))
    rate_all = small_typed["churned"].mean()
    assert abs(held["churned"].mean() - rate_all) < 0.02
    assert abs(train["churned"].mean() - rate_all) < 0.02
    again, _ = split(small_typed, schema, holdout=0.2, seed=7)
    assert again.equals(train)
    other, _ = split(small_typed, schema, holdout=0.2, seed=8)
    assert not other.equals(train)


def test_many_small_classes_keep_the_requested_fraction():
    import pandas as pd

    from synthdata.schema import schema_from_dict

    schema = schema_from_dict({"target": "y", "columns": {"y": "categorical", "v": "integer"}})
    df = pd.DataFrame({"y": [f"c{i // 2}" for i in range(100)], "v": range(100)})
    train, held = split(df, schema, holdout=0.2, seed=0)
    assert len(held) == 20 and len(train) == 80
    assert held["y"].value_counts().max() == 1, "never a whole class in the holdout"
