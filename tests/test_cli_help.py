"""Every command's --help ends with examples, and every example is a command line the parser accepts."""

from __future__ import annotations

import shlex

import pytest

from toolkit.commands import COMMANDS, EXAMPLES, build_parser, main


def test_every_command_has_examples() -> None:
    assert set(EXAMPLES) == set(COMMANDS)
    assert all(EXAMPLES[name] for name in COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_examples_that_parse(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "Examples:" in out
    parser = build_parser()
    for args, what in EXAMPLES[name]:
        assert f"python -m toolkit {name} {args}".rstrip() in out and what in out
        parsed = parser.parse_args([name, *shlex.split(args)])  # exits 2 on an example that does not parse
        assert parsed.command == name
