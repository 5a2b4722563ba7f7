"""How the guide and `bots schema` read what a key means (`bots.tools.fielddocs`)."""

from __future__ import annotations

from pydantic import BaseModel

from bots.tools import fielddocs, guide, schema


class Parcel(BaseModel):
    """A parcel to send. `weight` is in grams.

    The `colour` and `size` and `weight` and `address` are all checked. `address: Minsk` is
    where it goes.

    ```yaml
    parcel:
      address: Minsk
    ```
    """

    #: extension: who gets it,
    #: by name
    to: str
    weight: int = 0
    colour: str = ""
    address: str = ""
    size: int = 1
    """How big, from 1 to 3."""


class Letter(Parcel):
    #: a letter's own recipient
    to: str
    stamp: bool = False


def test_comments_above_a_field_and_a_docstring_below_it_describe_it() -> None:
    assert fielddocs.field_comments(Parcel) == {"to": "who gets it, by name", "size": "How big, from 1 to 3."}


def test_a_subclass_comment_replaces_its_base_class_one() -> None:
    assert fielddocs.field_comments(Letter) == {"to": "a letter's own recipient", "size": "How big, from 1 to 3."}


def test_the_sentence_that_starts_with_the_key_wins_and_crowded_ones_lose() -> None:
    texts = [fielddocs.prose(Parcel)]
    keys = list(Parcel.model_fields)
    assert fielddocs.mentioning("address", texts, keys) == "`address: Minsk` is where it goes."
    assert fielddocs.mentioning("weight", texts, keys) == "`weight` is in grams."
    assert fielddocs.mentioning("colour", texts, keys) == ""  # names four of the keys: says nothing of one
    assert fielddocs.mentioning("colour", texts) == "The `colour` and `size` and `weight` and `address` are all checked."
    assert fielddocs.mentioning("stamp", texts, keys) == ""


def test_examples_are_kept_apart_from_the_prose() -> None:
    assert fielddocs.yaml_examples(Parcel) == ["parcel:\n  address: Minsk\n"]
    assert "```" not in fielddocs.prose(Parcel) and "parcel:" not in fielddocs.prose(Parcel)
    assert fielddocs.docstring(Letter) == ""  # never the base class's


def test_the_guide_and_the_schema_describe_keys_alike() -> None:
    in_guide = {key.name: key.description for key in guide.keys_of(Parcel)}
    in_schema = schema.field_docs(Parcel)
    assert in_guide["to"] == in_schema["to"] == "who gets it, by name"
    assert in_guide["size"] == in_schema["size"] == "How big, from 1 to 3."
    assert in_guide["address"] == in_schema["address"] == "`address: Minsk` is where it goes."
    assert in_guide["weight"] == in_schema["weight"] == "`weight` is in grams."
