"""Extra training labels from outside the corpus (e.g. staff relabels stored by the bot).

The bot registers a source (``feedbackbot train`` registers the labels stored in DATABASE_URL)::

    from nlp.labels import set_label_source
    set_label_source(lambda: [(text, kind), ...])

and ``train --with-labels`` calls :func:`load_extra_examples`. Without a source it returns [].
They are trained on as records whose source is :data:`LABELS_SOURCE`, never held out, and
``train --with-labels`` reports the model without them beside the model with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

LabelSource = Callable[[], Iterable[tuple[str, str]]]
# The Record.source of a stored label among the training records.
LABELS_SOURCE = "labels"

_source: LabelSource | None = None


def set_label_source(source: LabelSource | None) -> None:
    """Register (or, with None, remove) the callable that yields (text, kind) pairs."""
    global _source
    _source = source


def load_extra_examples() -> list[tuple[str, str]]:
    """The registered source's (text, kind) pairs; [] when none is registered."""
    if _source is None:
        return []
    return [(str(text), str(kind)) for text, kind in _source()]
