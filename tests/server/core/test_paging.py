"""The Python state API's paged searches return a Page: items, next_page_token, and truthiness
that says whether anything was found."""
from __future__ import annotations

from mlemu.server.core.paging import Page


def test_an_empty_search_is_falsy_and_a_full_one_truthy(mlemu):
    assert not mlemu.tracking.search_experiments()        # a fresh workspace has none
    mlemu.workspace_files.mkdirs("/Shared/team")
    exp_id = mlemu.tracking.create_experiment("/Shared/team/exp").experiment_id
    page = mlemu.tracking.search_experiments()
    assert page and isinstance(page, Page)
    assert [e.experiment_id for e in page.items] == [exp_id]
    assert page.next_page_token is None


def test_pages_carry_the_next_token_and_unpack(mlemu):
    mlemu.workspace_files.mkdirs("/Shared/team")
    exp_id = mlemu.tracking.create_experiment("/Shared/team/exp").experiment_id
    for _ in range(3):
        mlemu.tracking.create_run(exp_id)
    first = mlemu.tracking.search_runs([exp_id], max_results=2)
    assert len(first.items) == 2 and first.next_page_token
    rest, token = mlemu.tracking.search_runs([exp_id], max_results=2, page_token=first.next_page_token)
    assert len(rest) == 1 and token is None
    assert repr(Page([], None)) == "Page(items=[], next_page_token=None)"
