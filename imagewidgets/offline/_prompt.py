"""Reading a prompt: the palette its colour and mood words suggest, and the motifs its nouns suggest.

Everything here is a pure function of the text (hashlib, never ``hash()``), so a prompt reads the
same way in every process.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass

RGB = tuple[int, int, int]


def seed(*parts: object) -> int:
    """A 64-bit seed from any mix of str/bytes/numbers, stable across processes."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return int.from_bytes(h.digest()[:8], "big")


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

COLOURS: dict[str, RGB] = {
    "red": (214, 40, 40), "crimson": (190, 20, 60), "scarlet": (230, 40, 25),
    "ruby": (160, 20, 40), "maroon": (128, 10, 35), "orange": (245, 130, 30),
    "amber": (255, 176, 0), "yellow": (250, 215, 45), "gold": (215, 175, 55),
    "golden": (215, 175, 55), "green": (46, 160, 67), "emerald": (0, 155, 119),
    "lime": (150, 210, 40), "olive": (128, 128, 30), "mint": (150, 225, 180),
    "teal": (0, 128, 128), "cyan": (0, 200, 220), "turquoise": (64, 215, 200),
    "blue": (35, 90, 200), "navy": (20, 30, 95), "sapphire": (15, 82, 186),
    "azure": (0, 127, 255), "indigo": (75, 20, 130), "purple": (128, 50, 160),
    "violet": (140, 75, 205), "lavender": (180, 160, 230), "magenta": (220, 30, 150),
    "pink": (240, 120, 170), "rose": (230, 90, 120), "coral": (255, 127, 80),
    "peach": (255, 190, 150), "brown": (120, 72, 40), "beige": (220, 200, 160),
    "cream": (250, 240, 210), "tan": (210, 180, 140), "black": (20, 20, 24),
    "white": (245, 245, 245), "gray": (128, 128, 132), "grey": (128, 128, 132),
    "silver": (192, 192, 200),
}

# Shade words adjust the colour word that follows them ("pale blue", "dark green").
SHADES: dict[str, tuple[RGB, float]] = {
    "light": (WHITE, 0.4), "pale": (WHITE, 0.55), "pastel": (WHITE, 0.5), "bright": (WHITE, 0.15),
    "dark": (BLACK, 0.4), "deep": (BLACK, 0.25),
}

_MOOD_PALETTES: dict[tuple[str, ...], tuple[RGB, ...]] = {
    ("sunset", "dusk", "twilight"): ((60, 30, 90), (200, 60, 110), (250, 120, 60), (255, 200, 90)),
    ("sunrise", "dawn", "morning"): ((255, 205, 160), (250, 150, 120), (120, 150, 220), (255, 230, 170)),
    ("ocean", "sea", "beach", "underwater", "marine", "coast"):
        ((10, 40, 90), (20, 110, 170), (60, 180, 200), (230, 220, 180)),
    ("forest", "jungle", "woods", "woodland"): ((20, 60, 30), (50, 110, 50), (120, 90, 50), (170, 200, 110)),
    ("night", "midnight", "moonlight", "moonlit"): ((10, 14, 40), (30, 40, 90), (80, 70, 140), (240, 230, 160)),
    ("desert", "sand", "dune", "dunes"): ((240, 200, 140), (210, 140, 80), (160, 90, 50), (120, 170, 220)),
    ("winter", "snow", "snowy", "ice", "icy", "frozen", "arctic"):
        ((235, 245, 255), (180, 210, 240), (120, 160, 210), (60, 90, 140)),
    ("autumn", "fall"): ((140, 50, 20), (210, 110, 30), (240, 180, 60), (90, 60, 40)),
    ("spring", "garden", "meadow"): ((160, 220, 140), (250, 200, 220), (255, 240, 160), (120, 180, 230)),
    ("fire", "flame", "flames", "lava", "volcano", "burning"):
        ((90, 10, 10), (210, 40, 20), (250, 130, 20), (255, 220, 80)),
    ("space", "galaxy", "cosmic", "nebula", "universe"): ((8, 6, 24), (50, 20, 90), (150, 40, 160), (90, 200, 240)),
    ("neon", "cyberpunk", "synthwave"): ((15, 10, 35), (255, 40, 170), (20, 230, 240), (250, 250, 120)),
    ("dream", "dreamy", "candy", "cotton"): ((250, 210, 220), (200, 225, 250), (220, 250, 210), (250, 240, 200)),
    ("vintage", "sepia", "retro", "old"): ((90, 60, 40), (170, 130, 90), (230, 210, 170), (120, 100, 80)),
    ("storm", "stormy", "rain", "rainy", "fog", "foggy", "mist", "misty"):
        ((50, 55, 65), (90, 100, 115), (150, 160, 170), (200, 205, 210)),
    ("tropical", "summer", "island"): ((20, 170, 190), (250, 220, 90), (40, 170, 90), (250, 120, 90)),
}
MOODS: dict[str, tuple[RGB, ...]] = {w: p for words, p in _MOOD_PALETTES.items() for w in words}

_MOTIF_GROUPS: dict[str, tuple[str, ...]] = {
    "orb": ("sun", "moon", "planet", "ball", "orb", "bubble", "egg", "coin",
            "earth", "globe", "circle", "sunset", "sunrise", "moonlight", "pearl", "peach", "orange"),
    "face": ("face", "person", "portrait", "man", "woman", "girl", "boy", "child", "baby", "teacher", "astronaut"),
    "mountain": ("mountain", "hill", "peak", "volcano", "pyramid", "alps", "triangle", "cliff"),
    "tree": ("tree", "forest", "pine", "woods", "jungle", "plant", "woodland"),
    "waves": ("sea", "ocean", "river", "lake", "water", "wave", "beach", "stream", "waterfall", "underwater"),
    "skyline": ("city", "building", "skyscraper", "tower", "castle", "town", "street", "skyline"),
    "stars": ("star", "night", "galaxy", "space", "constellation", "sparkle", "universe", "nebula"),
    "cloud": ("cloud", "fog", "storm", "rain", "mist", "smoke", "weather"),
    "flower": ("flower", "tulip", "daisy", "blossom", "garden", "bloom", "sunflower", "lotus", "rose"),
    "bird": ("bird", "gull", "seagull", "crow", "eagle", "swallow", "bat", "parrot", "robin", "sparrow"),
    "boat": ("boat", "ship", "sail", "sailboat", "yacht"),
    "heart": ("heart", "love", "valentine"),
    "fish": ("fish", "dolphin", "shark", "koi", "goldfish"),
    # drawn by _objects: things an edit often adds
    "hat": ("hat", "cap", "beret", "bonnet", "sombrero", "fedora"),
    "lighthouse": ("lighthouse", "beacon"),
    "kite": ("kite",),
    # drawn by _animals: heads
    "cat": ("cat", "kitten", "kitty"), "dog": ("dog", "puppy", "corgi", "poodle"), "fox": ("fox",),
    "bear": ("bear", "teddy"), "rabbit": ("rabbit", "bunny", "hare"), "mouse": ("mouse", "mice", "hamster", "rat"),
    "lion": ("lion",), "tiger": ("tiger",), "panda": ("panda",), "pig": ("pig", "piglet"), "cow": ("cow", "calf"),
    "monkey": ("monkey", "ape", "chimp", "gorilla"), "horse": ("horse", "pony"), "unicorn": ("unicorn",),
    "sheep": ("sheep", "lamb"), "elephant": ("elephant",),
    # drawn by _critters: whole creatures
    "owl": ("owl",), "penguin": ("penguin",), "duck": ("duck", "duckling", "goose"), "frog": ("frog", "toad"),
    "snake": ("snake", "serpent", "python"), "turtle": ("turtle", "tortoise"), "snail": ("snail",),
    "bee": ("bee", "bumblebee"), "butterfly": ("butterfly", "moth"), "octopus": ("octopus", "squid"),
    "whale": ("whale", "orca"), "crab": ("crab", "lobster"), "ladybird": ("ladybird", "ladybug"),
    "hedgehog": ("hedgehog",), "giraffe": ("giraffe",), "dinosaur": ("dinosaur", "dino", "brontosaurus"),
    "dragon": ("dragon",),
    # drawn by _things: objects (one word each per thing: "a cup of coffee" is one cup, not two)
    "robot": ("robot", "android", "droid"), "house": ("house", "home", "cottage", "cabin", "hut", "barn"),
    "car": ("car", "taxi", "truck"), "bicycle": ("bicycle", "bike"), "rocket": ("rocket", "spaceship"),
    "airplane": ("airplane", "aeroplane", "plane", "jet"), "umbrella": ("umbrella",),
    "cup": ("cup", "mug", "teacup"), "book": ("book", "novel"),
    "clock": ("clock", "watch"), "key": ("key",), "guitar": ("guitar",), "cake": ("cake", "cupcake"),
    "apple": ("apple",), "banana": ("banana",), "tent": ("tent",), "candle": ("candle",),
    "crown": ("crown", "tiara"), "balloon": ("balloon",), "pizza": ("pizza",),
    "icecream": ("icecream", "cream", "sundae", "gelato"),
}
MOTIF_WORDS: dict[str, str] = {w: m for m, words in _MOTIF_GROUPS.items() for w in words}
GENERIC_MOTIFS = ("blob", "ring", "diamond", "burst", "stack", "bars", "dots", "crescent")
# Words that name the backdrop: a colour before them colours the sky, not a subject.
BACKDROP = frozenset({"sky", "background", "backdrop", "wall", "room", "world", "scene", "air", "horizon"})

STOPWORDS = frozenset("""
a an the of with in on at and or but to from by for into onto over under above below near
beside behind between through across along around against is are was were be been being this
that these those it its his her their our my your some any each every very so too as while
who whom which what where when how than then there here out up down off all no not only own
same such just more most other both few many much one two three four five six seven eight nine
ten lots lot full made make makes making style styled photo photograph picture image painting
illustration drawing render rendering art artwork digital realistic photorealistic detailed
highly high quality low resolution beautiful pretty lovely cute big small little tiny huge giant
large tall short long wide old new young standing sitting flying running walking riding wearing
holding looking playing floating lying sleeping jumping swimming made like view close closeup
shot wallpaper scene background sky hd ultra cinematic lighting light dark pale deep bright
soft glowing shiny vivid natural simple minimal abstract sketch watercolor watercolour oil
lonely quiet happy sad calm peaceful majestic ancient mysterious magical colorful colourful epic
dramatic serene cozy cosy futuristic fantasy surreal elegant modern classic wild lush gentle
stunning amazing gorgeous warm cold hot cool strange funny sunny cloudy windy whimsical
add adds added put place change turn replace remove give insert include draw paint show let please
also instead now again less keep same bigger smaller something thing things another else move edit
""".split())
# Likely adjectives, adverbs and verbs rather than things (checked after the motif words).
NOT_NOUN_SUFFIXES = ("ly", "ful", "ous", "ing", "ive", "ish", "ed", "est")


@dataclass(frozen=True)
class Subject:
    """One thing the prompt names, drawn as a motif; ``colour`` is set when a colour word precedes it."""

    word: str
    motif: str
    colour: RGB | None = None


@dataclass(frozen=True)
class Reading:
    words: tuple[str, ...]
    subjects: tuple[Subject, ...]
    palette: tuple[RGB, ...]  # colours for motifs, most prominent first
    sky: tuple[RGB, RGB]  # backdrop gradient, top then bottom


def _base(word: str, table: dict) -> str | None:
    """The form of ``word`` found in ``table``, trying simple English plurals."""
    for cand in (word, word[:-1] if word.endswith("s") else None,
                 word[:-3] + "y" if word.endswith("ies") else None,
                 word[:-2] if word.endswith("es") else None):
        if cand and cand in table:
            return cand
    return None


def words_of(prompt: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", prompt.lower())


def read_prompt(prompt: str, style: str | None = None, max_subjects: int = 6) -> Reading:
    words = words_of(prompt)
    colours: list[RGB] = []
    mood: list[RGB] = []
    subjects: list[Subject] = []
    seen: set[str] = set()
    backdrop: RGB | None = None
    pending: RGB | None = None  # a colour word waiting for its noun
    pending_age = 0
    shade: tuple[RGB, float] | None = None
    for w in words:
        if w in SHADES and shade is None:
            shade = SHADES[w]
        if w in COLOURS:
            c = COLOURS[w]
            if shade:
                c = mix(c, shade[0], shade[1])
            shade = None
            if c not in colours:
                colours.append(c)
            pending, pending_age = c, 0
            continue
        if w not in SHADES:
            shade = None
        if w in MOODS and not mood:
            mood = list(MOODS[w])
        if w in BACKDROP:
            if pending is not None:
                backdrop, pending = pending, None
            continue
        motif_key = _base(w, MOTIF_WORDS)
        is_content = motif_key is not None or (
            len(w) >= 3 and w not in STOPWORDS and w not in MOODS
            and not (len(w) >= 6 and w.endswith(NOT_NOUN_SUFFIXES)))
        if is_content:
            key = motif_key or w
            motif = MOTIF_WORDS[motif_key] if motif_key else GENERIC_MOTIFS[seed("motif", w) % len(GENERIC_MOTIFS)]
            if key not in seen and len(subjects) < max_subjects:
                seen.add(key)
                subjects.append(Subject(key, motif, pending))
            pending = None
        else:
            pending_age += 1
            if pending_age > 2:
                pending = None

    if colours:
        shades = [mix(c, WHITE, 0.35) for c in colours[:2]] + [mix(c, BLACK, 0.3) for c in colours[:2]]
        palette = colours + shades + mood
    elif mood:
        palette = list(mood)
    else:
        palette = _hashed_palette(prompt)

    if backdrop is not None:
        sky = (mix(backdrop, WHITE, 0.2), mix(backdrop, BLACK, 0.3))
    elif mood:
        sky = (mood[0], mood[1])
    elif colours:
        first = colours[0]
        bound_to_subject = any(s.colour == first for s in subjects)
        sky = ((mix(first, WHITE, 0.62), mix(first, WHITE, 0.3)) if bound_to_subject
               else (mix(first, WHITE, 0.2), mix(first, BLACK, 0.3)))
    else:
        sky = (mix(palette[0], WHITE, 0.5), mix(palette[0], BLACK, 0.2))

    if style in ("vivid", "natural"):
        factor = 1.3 if style == "vivid" else 0.7
        palette = [_saturate(c, factor) for c in palette]
        sky = (_saturate(sky[0], factor), _saturate(sky[1], factor))
        subjects = [Subject(s.word, s.motif, _saturate(s.colour, factor) if s.colour else None) for s in subjects]
    return Reading(tuple(words), tuple(subjects), tuple(palette), sky)


def _hashed_palette(prompt: str) -> list[RGB]:
    """A harmonious palette for prompts without colour words: a hue and a scheme from the hash."""
    h = seed("palette", prompt.strip().lower())
    hue = (h % 360) / 360
    schemes = ((0, 0.08, -0.08, 0.5), (0, 1 / 3, 2 / 3, 0.05), (0, 0.5, 0.42, 0.58), (0, 0.15, 0.3, 0.45))
    offsets = schemes[(h >> 12) % 4]  # analogous+accent, triad, split complement, ramp
    sat = 0.45 + ((h >> 20) % 30) / 100
    val = 0.7 + ((h >> 28) % 25) / 100
    out = []
    for i, off in enumerate(offsets):
        r, g, b = colorsys.hsv_to_rgb((hue + off) % 1.0, sat, val - 0.12 * (i % 2))
        out.append((int(r * 255), int(g * 255), int(b * 255)))
    return out


def _saturate(c: RGB, factor: float) -> RGB:
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
    r, g, b = colorsys.hsv_to_rgb(h, min(1.0, s * factor), min(1.0, v * (1.05 if factor > 1 else 0.97)))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def luminance(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
