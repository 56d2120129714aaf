"""Human-written dates -> ISO dates: the toy translation task of the seq2seq tutorials.

    (x_train, y_train), (x_test, y_test) = load_dates(20_000, 2_000, seed=0)
    x_train[0], y_train[0]          # ('the 25th of June, 2009', '2009-06-25'), say

Dates are drawn uniformly from 1950-01-01 .. 2049-12-31 with Python's `datetime` and
written in one of `FORMATS` (spelled-out months, ordinals, weekdays, day-first numbers,
two-digit years, days and years in words, upper/lower case), from "25/06/09" (8
characters) to "Wednesday, the twenty-seventh of September, nineteen seventy-eight" (66).
Two-digit years read as 1950-2049, and numeric formats are always day-first, so every
input has exactly one answer. Everything is deterministic given the seed; month,
weekday and number words are English, never the locale's.
"""

import datetime
import functools

import numpy as np

from keras_zoo.datasets.text import CharVocab

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
TARGET_LENGTH = len("2009-06-25")


def ordinal(day):
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def spelled(n):
    """0 <= n < 100 in English words: 7 -> 'seven', 47 -> 'forty-seven'."""
    if not 0 <= n < 100:
        raise ValueError(f"spelled() takes 0..99, got {n}")
    if n < 20:
        return ONES[n]
    return TENS[n // 10] + (f"-{ONES[n % 10]}" if n % 10 else "")


def spelled_ordinal(n):
    """1 <= n < 100 as an ordinal in words: 1 -> 'first', 27 -> 'twenty-seventh'."""
    *head, last = spelled(n).split("-")
    last = IRREGULAR_ORDINALS.get(last) or (last[:-1] + "ieth" if last.endswith("y")
                                            else last + "th")
    return "-".join([*head, last])


def spelled_year(year):
    """A year as spoken: 1984 -> 'nineteen eighty-four', 2009 -> 'two thousand and nine',
    2000 -> 'two thousand', 2023 -> 'twenty twenty-three', 1905 -> 'nineteen oh five'."""
    century, rest = divmod(year, 100)
    if year % 1000 < 10:  # 2000-2009 (and 1000-1009): "two thousand and nine"
        return spelled(year // 1000) + " thousand" + (f" and {spelled(rest)}" if rest else "")
    tail = "hundred" if rest == 0 else f"oh {spelled(rest)}" if rest < 10 else spelled(rest)
    return f"{spelled(century)} {tail}"


def _fields(d):
    month, weekday = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return {"d": d.day, "dd": f"{d.day:02d}", "mm": f"{d.month:02d}", "m": d.month,
            "yyyy": d.year, "yy": f"{d.year % 100:02d}", "month": month, "mon": month[:3],
            "th": ordinal(d.day), "wday": weekday, "wd": weekday[:3],
            "nth": spelled_ordinal(d.day), "year": spelled_year(d.year)}


FORMATS = (  # str.format templates over `_fields`; the case variants are applied after
    "the {th} of {month}, {yyyy}",
    "the {th} of {month} {yyyy}",
    "{th} {month} {yyyy}",
    "{dd}/{mm}/{yy}",
    "{d}/{m}/{yyyy}",
    "{dd}.{mm}.{yyyy}",
    "{yyyy}/{mm}/{dd}",
    "{month} {d} {yyyy}",
    "{month} {d}, {yyyy}",
    "{mon} {d}, {yy}",
    "{mon}. {d}, {yyyy}",
    "{d} {month} {yyyy}",
    "{d} {mon} {yyyy}",
    "{dd}-{mon}-{yyyy}",
    "{wday}, {month} {d}, {yyyy}",
    "{wday}, the {th} of {month}, {yyyy}",
    "{wd} {d} {mon} {yyyy}",
    "{wd}, {dd}.{mm}.{yy}",
    "the {nth} of {month}, {year}",  # days and years in words: the long inputs
    "{month} the {nth}, {year}",
    "the {nth} of {month} {yyyy}",
    "{wday}, the {nth} of {month}, {year}",
)
CASES = (str, str.lower, str.upper)  # original case twice as often as the others
CASE_WEIGHTS = (0.5, 0.25, 0.25)


def human_date(date, fmt, case=str):
    """`date` written as `FORMATS` template `fmt`, passed through `case` (e.g. str.upper)."""
    return case(fmt.format(**_fields(date)))


def iso_date(date):
    """The target: 'YYYY-MM-DD'."""
    return date.isoformat()


def random_dates(n, seed=0):
    """`n` dates drawn uniformly from 1950-01-01 .. 2049-12-31."""
    days = np.random.default_rng(seed).integers(0, (LAST - FIRST).days + 1, size=n)
    return [FIRST + datetime.timedelta(days=int(k)) for k in days]


def make_dates(n, seed=0):
    """`n` pairs (human-written date, ISO date), formats and cases drawn at random.

    Returns:
        (sources, targets): two lists of `n` strings.
    """
    rng = np.random.default_rng([seed, 1])
    dates = random_dates(n, seed)
    formats = rng.integers(0, len(FORMATS), size=n)
    cases = rng.choice(len(CASES), size=n, p=CASE_WEIGHTS)
    sources = [human_date(d, FORMATS[f], CASES[c]) for d, f, c in zip(dates, formats, cases)]
    return sources, [iso_date(d) for d in dates]


def load_dates(n_train=20_000, n_test=2_000, seed=0):
    """Train and test pairs ((x_train, y_train), (x_test, y_test)); lists of strings.

    The test dates never occur in the training set (same date in any format excluded).
    """
    x, y = make_dates(n_train + 5 * n_test, seed)
    train_days = set(y[:n_train])
    test = [(s, t) for s, t in zip(x[n_train:], y[n_train:]) if t not in train_days][:n_test]
    if len(test) < n_test:
        raise ValueError(f"only {len(test)} dates outside the training set; ask for fewer")
    return (x[:n_train], y[:n_train]), ([s for s, _ in test], [t for _, t in test])


def source_vocab():
    """Every character the human-written formats can produce (both cases)."""
    words = " ".join(MONTHS + WEEKDAYS + ONES + TENS + tuple(IRREGULAR_ORDINALS.values())
                     + ("the", "of", "st", "nd", "rd", "th", "ieth", "hundred", "thousand",
                        "and", "oh"))
    return CharVocab.from_text(words, words.lower(), words.upper(), "0123456789 ,./-")


def target_vocab():
    """Digits and '-': the ISO dates' characters."""
    return CharVocab.from_text("0123456789-")


@functools.cache
def max_source_length():
    """Length of the longest human-written date (characters, no start/end tokens).

    Exhaustive: every format of every date from `FIRST` to `LAST` (about 1 s, once).
    """
    days = (FIRST + datetime.timedelta(days=k) for k in range((LAST - FIRST).days + 1))
    return max(len(f.format(**fields)) for fields in map(_fields, days) for f in FORMATS)
