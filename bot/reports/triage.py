"""/triage for managers: how many labels people gave (staff relabels, customers' answers to
"what is this?"), and how often the model agrees with the latest of them.

The labelled texts are read first, in a read session that ends before the model runs; the
model then triages them in one batch, in its worker thread; the agreement is computed here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.triage import TriageService
from bot.reports.words import Words
from nlp import KINDS
from storage.db import Database, ensure_outside_transaction
from storage.labels import CUSTOMER, STAFF, LabelTotals, label_totals, latest_labelled

DEFAULT_LATEST = 200
MAX_LATEST = 1000  # four batches of the model: well under a second
TOP_CONFUSIONS = 5
_BATCH = 256


@dataclass(frozen=True, slots=True)
class KindAgreement:
    """Labels of one kind among those checked, and how many the model gave the same kind."""

    kind: str
    labels: int
    agreed: int

    @property
    def share(self) -> float | None:
        return self.agreed / self.labels if self.labels else None


@dataclass(frozen=True, slots=True)
class LabelReport:
    """The label counts, and the model's agreement with the latest ``checked`` labels."""

    totals: LabelTotals
    asked: int  # how many latest labels the manager asked for
    checked: int  # how many there were
    agreed: int
    per_kind: tuple[KindAgreement, ...]
    confusions: tuple[tuple[str, str, int], ...]  # (label, model, messages), most first

    @property
    def share(self) -> float | None:
        return self.agreed / self.checked if self.checked else None


def agreement(totals: LabelTotals, pairs: Sequence[tuple[str, str]], *, asked: int) -> LabelReport:
    """The report of (label, model's kind) pairs: overall, per kind of the label, and the most
    common disagreements (ties in the order of the kinds)."""
    extra = sorted({label for label, _ in pairs} - set(KINDS))
    kinds = [*KINDS, *extra]
    per_kind = tuple(
        KindAgreement(
            kind=kind,
            labels=sum(1 for label, _ in pairs if label == kind),
            agreed=sum(1 for label, said in pairs if label == kind == said),
        )
        for kind in kinds
    )
    wrong = Counter((label, said) for label, said in pairs if label != said)
    order = {kind: i for i, kind in enumerate(kinds)}
    confusions = sorted(
        wrong.items(), key=lambda item: (-item[1], order[item[0][0]], order.get(item[0][1], 99))
    )
    return LabelReport(
        totals=totals,
        asked=asked,
        checked=len(pairs),
        agreed=sum(k.agreed for k in per_kind),
        per_kind=per_kind,
        confusions=tuple((label, said, n) for (label, said), n in confusions[:TOP_CONFUSIONS]),
    )


async def label_report(db: Database, triage: TriageService, *, latest: int) -> LabelReport:
    """Count the labels and check the model on the ``latest`` labelled messages."""
    async with db.read() as session:
        totals = await label_totals(session=session)
        labelled = await latest_labelled(session=session, limit=latest)
    ensure_outside_transaction("triage of the labelled messages")
    texts = [item.text for item in labelled]
    results = []
    # In batches of the live triage's size: customers' messages wait for one batch at most.
    for start in range(0, len(texts), _BATCH):
        results += await triage.triage_many(texts[start : start + _BATCH])
    pairs = [(item.kind, result.kind) for item, result in zip(labelled, results, strict=True)]
    return agreement(totals, pairs, asked=latest)


def format_label_report(report: LabelReport, w: Words) -> str:
    """The report as plain text in the reader's language."""
    totals = report.totals
    lines = [w.t("triage.title"), ""]
    if not report.checked:
        lines.append(w.t("triage.none"))
        if totals.topic_labels:
            lines.append(w.n("triage.topics", totals.topic_labels))
        return "\n".join(lines)
    lines.append(
        w.t(
            "triage.totals",
            labels=w.n("triage.labels", totals.kind_labels),
            staff=w.n("triage.staff", totals.by_source.get(STAFF, 0)),
            customers=w.n("triage.customers", totals.by_source.get(CUSTOMER, 0)),
        )
    )
    kinds = [*KINDS, *sorted(set(totals.by_kind) - set(KINDS))]
    items = ", ".join(f"{w.label(k)} {w.integer(totals.by_kind.get(k, 0))}" for k in kinds)
    lines.append("  " + w.t("triage.by_kind", items=items))
    if totals.topic_labels:
        lines.append("  " + w.n("triage.topics", totals.topic_labels))
    lines.append("  " + w.t("triage.forgotten"))
    lines.append("")
    every = report.checked < report.asked
    lines.append(w.n("triage.checked_all" if every else "triage.checked_latest", report.checked))
    share = w.part("triage.labels", report.agreed, report.checked, report.share)
    lines.append("  " + w.t("triage.agrees", share=share))
    for kind in report.per_kind:
        share = w.part("triage.labels", kind.agreed, kind.labels, kind.share)
        lines.append("  " + w.t("triage.per_kind", kind=w.label(kind.kind), share=share))
    lines += ["", w.t("triage.confusions")]
    if not report.confusions:
        lines.append("  " + w.t("triage.no_confusion"))
    for label, said, n in report.confusions:
        text = w.t("triage.confusion", count=w.number(n), label=w.label(label), model=w.label(said))
        lines.append("  " + text)
    return "\n".join(lines)
