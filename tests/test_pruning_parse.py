"""The CLI form of pruning schemes: every form, the round trip, and every error message."""

import pytest

from accelsim.pruning import (
    NM,
    SCHEMES,
    Block,
    Channel,
    Global,
    Han2015,
    NoPruning,
    PruningError,
    Random,
    Unstructured,
    parse_scheme,
)

FORMS = {
    "unstructured:0.9": Unstructured(sparsity=0.9),
    "global:0.9": Global(sparsity=0.9),
    "global:0.9:min_layer_density=0.05": Global(sparsity=0.9, min_layer_density=0.05),
    "random:0.5": Random(sparsity=0.5, seed=0),
    "random:0.5:seed=3": Random(sparsity=0.5, seed=3),
    "nm:2:4": NM(n=2, m=4),
    "nm:1:4": NM(n=1, m=4),
    "NM:4:8": NM(n=4, m=8),
    "block:4x4:0.75": Block(block_rows=4, block_cols=4, sparsity=0.75),
    "block:1x16:0.5": Block(block_rows=1, block_cols=16, sparsity=0.5),
    "channel:0.5": Channel(sparsity=0.5, norm=1),
    "channel:0.5:l2": Channel(sparsity=0.5, norm=2),
    "han2015": Han2015(),
    "none": NoPruning(),
    " unstructured : 0 ": Unstructured(sparsity=0.0),
}


@pytest.mark.parametrize(("text", "expected"), FORMS.items())
def test_every_form_parses_and_round_trips(text, expected):
    scheme = parse_scheme(text)
    assert scheme == expected
    assert parse_scheme(scheme.text) == scheme


def test_exclude_is_passed_beside_the_text():
    assert parse_scheme("nm:2:4", exclude=["classifier"]).exclude == ("classifier",)


def test_a_seed_in_the_text_wins_over_the_seed_argument():
    assert parse_scheme("random:0.5", seed=7) == Random(sparsity=0.5, seed=7)
    assert parse_scheme("random:0.5:seed=3", seed=7).seed == 3
    assert parse_scheme("nm:2:4", seed=7) == NM(n=2, m=4)


def test_schemes_lists_every_name_with_syntax_and_a_one_line_summary():
    assert list(SCHEMES) == ["unstructured", "global", "erk", "random", "nm", "block", "channel", "han2015", "none"]
    for name, info in SCHEMES.items():
        assert info.name == name and info.syntax.startswith(name)
        assert info.summary and "\n" not in info.summary


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unstructred:0.9", r"unknown pruning scheme 'unstructred'.*Did you mean 'unstructured'\?.*Known schemes: "),
        ("gobal:0.9", r"Did you mean 'global'\?"),
        ("magic:0.9", r"unknown pruning scheme 'magic' in 'magic:0.9'\. Known schemes: unstructured:<sparsity>;"),
        ("", r"unknown pruning scheme ''"),
    ],
)
def test_unknown_scheme_names_the_known_ones(text, message):
    with pytest.raises(PruningError, match=message):
        parse_scheme(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unstructured:1", r"sparsity must be in \[0, 1\).*got 1\.0"),
        ("unstructured:1.5", r"sparsity must be in \[0, 1\)"),
        ("global:-0.1", r"sparsity must be in \[0, 1\).*got -0\.1"),
        ("random:90", r"'random:90': sparsity must be in \[0, 1\): the fraction of weights set to zero"),
        ("block:4x4:1.0", r"sparsity must be in \[0, 1\)"),
        ("channel:nan", r"sparsity must be in \[0, 1\)"),
        ("global:0.9:min_layer_density=2", r"min_layer_density must be in \[0, 1\]"),
    ],
)
def test_sparsity_out_of_range(text, message):
    with pytest.raises(PruningError, match=message):
        parse_scheme(text)
    with pytest.raises(ValueError, match=r"must be in \[0, 1"):
        Unstructured(sparsity=1.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nm:4:2", r"'nm:4:2': N:M sparsity needs 1 <= n <= m .*got n=4, m=2; nm is written nm:<n>:<m>"),
        ("nm:0:4", r"1 <= n <= m .*got n=0, m=4"),
        ("nm:2:0", r"got n=2, m=0"),
    ],
)
def test_n_greater_than_m_and_nonpositive_sizes(text, message):
    with pytest.raises(PruningError, match=message):
        parse_scheme(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unstructured:abc", r"sparsity 'abc' is not a number \(a fraction such as 0\.9\)"),
        ("unstructured:90%", r"sparsity '90%' is not a number"),
        ("nm:2.5:4", r"n '2\.5' is not an integer"),
        ("nm:two:four", r"n 'two' is not an integer"),
        ("random:0.5:seed=x", r"seed 'x' is not an integer"),
        ("block:4by4:0.5", r"block size '4by4' is not <rows>x<cols>"),
        ("block:4xa:0.5", r"block cols 'a' is not an integer"),
        ("block:0x4:0.5", r"block_rows: Input should be greater than or equal to 1"),
        ("channel:0.5:l3", r"norm 'l3' is not l1 or l2"),
        ("global:0.9:min_layer_density=lots", r"min_layer_density 'lots' is not a number"),
    ],
)
def test_malformed_numbers(text, message):
    with pytest.raises(PruningError, match=message):
        parse_scheme(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unstructured", r"expected 1 argument\(s\), got 0; unstructured is written unstructured:<sparsity>"),
        ("nm:2", r"expected 2 argument\(s\), got 1; nm is written nm:<n>:<m>"),
        ("han2015:0.5", r"expected 0 argument\(s\), got 1; han2015 is written han2015"),
        ("channel:0.5:l1:l2", r"expected 1 to 2 argument\(s\), got 3"),
        ("random:0.5:sed=3", r"unknown option sed \(allowed: seed=\)"),
        ("nm:2:4:seed=1", r"unknown option seed \(allowed: none\)"),
    ],
)
def test_wrong_shape_of_text(text, message):
    with pytest.raises(PruningError, match=message):
        parse_scheme(text)


def test_configs_refuse_unknown_fields():
    with pytest.raises(ValueError, match="sparsty"):
        Unstructured(sparsity=0.5, sparsty=0.5)
