"""The shared result behaviour: tidy table, text summary and notebook HTML from one table."""

from __future__ import annotations

import polars as pl
import pytest

from certkit.results import ResultMixin


class Kept(ResultMixin):
    title = "kept"

    def __init__(self):
        self.table = pl.DataFrame({"term": ["a"], "estimate": [1.23456789]})
        self.warnings = ["small cohort"]


def test_results_keeping_a_table_need_no_to_polars():
    res = Kept()
    assert res.to_polars() is res.table
    assert "1.23" in res.summary() and "small cohort" in res.summary()  # display: 3 digits
    assert ">kept</div>" in res._repr_html_() and "small cohort" in res._repr_html_()


def test_results_without_a_table_must_implement_to_polars():
    class Bare(ResultMixin):
        pass

    with pytest.raises(NotImplementedError, match="Bare must implement to_polars"):
        Bare().to_polars()
