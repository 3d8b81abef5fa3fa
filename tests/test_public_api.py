"""The public API is exactly what ``toolkit.__all__`` says (httpx-style export check)."""

import doctest
import importlib
import pkgutil

import toolkit


def test_all_names_exist_and_are_sorted() -> None:
    for name in toolkit.__all__:
        assert hasattr(toolkit, name), name
    assert list(toolkit.__all__) == sorted(toolkit.__all__)


def test_public_objects_have_docstrings() -> None:
    for name in toolkit.__all__:
        obj = getattr(toolkit, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_doctests_of_every_module_pass() -> None:
    for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, info.name


def test_bulk_edit_api_is_public() -> None:
    for name in ("plan_edits", "rollback_edits", "resume_edits", "revoke_tokens", "EditPlan", "EditResult"):
        assert name in toolkit.__all__, name
    plan_doc = toolkit.EditPlan.__doc__ or ""
    assert "preview" in plan_doc and "problems" in plan_doc
