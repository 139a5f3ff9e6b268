"""Generated names for runs and logged models without one ("adjective-animal-123", the shape
Databricks and mlflow servers hand out), drawn from the workspace's seeded ids so they are
the same on every test run."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlemu.server.core.ids import IdGenerator

_ADJECTIVES = (
    "agile", "amazing", "ambitious", "auspicious", "bald", "beautiful", "bedecked", "bemused",
    "bold", "brave", "bright", "bustling", "calm", "capable", "carefree", "casual", "charming",
    "classy", "clean", "clever", "colorful", "crawling", "dapper", "debonair", "delicate",
    "derisive", "dashing", "enchanting", "entertaining", "fearless", "funny", "gaudy",
    "gentle", "glamorous", "gregarious", "handsome", "hilarious", "honorable", "illustrious",
    "industrious", "intelligent", "judicious", "kindly", "learned", "legendary", "likeable",
    "loud", "luminous", "marvelous", "masked", "melodic", "merciful", "mercurial", "monumental",
    "mysterious", "nebulous", "nimble", "omniscient", "orderly", "overjoyed", "peaceful",
    "polite", "popular", "powerful", "puzzled", "receptive", "redolent", "resilient", "rogue",
    "rumbling", "salty", "secretive", "selective", "sedate", "serious", "shivering", "silent",
    "skillful", "smiling", "sneaky", "sophisticated", "spiffy", "stately", "suave", "stylish",
    "tasteful", "thoughtful", "thundering", "traveling", "treasured", "trusting", "unequaled",
    "upbeat", "unique", "unruly", "valuable", "vaunted", "victorious", "welcoming", "whimsical",
    "wise", "worried", "youthful", "zealous",
)

_ANIMALS = (
    "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf",
    "carp", "cat", "chimp", "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow",
    "cub", "deer", "doe", "dog", "dolphin", "donkey", "dove", "duck", "eel", "elk", "fawn",
    "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu", "goat",
    "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay",
    "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole",
    "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig",
    "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark",
    "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug", "smelt",
    "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat",
    "stork", "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf",
    "worm", "wren", "yak", "zebra",
)


def generate_name(ids: "IdGenerator") -> str:
    """``<adjective>-<animal>-<0..999>`` from the workspace's seeded generator."""
    n = int(ids.hex(12), 16)
    adjective = _ADJECTIVES[n % len(_ADJECTIVES)]
    n //= len(_ADJECTIVES)
    animal = _ANIMALS[n % len(_ANIMALS)]
    n //= len(_ANIMALS)
    return f"{adjective}-{animal}-{n % 1000}"
