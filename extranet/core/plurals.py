"""Counts in French words: « 0 place », « 1 place », « 2 places ».

French takes the singular below two, zero included, where Django's `pluralize` writes « 0 places »; and « place(s) »
reads as a form to fill in, not as a sentence. Every count the account and seat pages print goes through here.
"""


def quantity(count, singular, plural=None):
    """« 2 gestionnaires actifs »: the count and its words, singular below two. `plural` defaults to the singular
    with an s, which suits one regular word; words that agree together (« gestionnaire actif ») give theirs."""
    words = singular if abs(count) < 2 else plural or f"{singular}s"
    return f"{count} {words}"
