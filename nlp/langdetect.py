"""A tiny English/Italian language detector: function words, shorthand and spelling cues.

No model and no data files: a few hundred hand-picked words that are frequent in one language
and rare in the other, plus accent, apostrophe and word-ending cues. It runs in a few
microseconds per message. Text with no cue at all (emoji, numbers, "ok") falls back to
``DEFAULT_LANGUAGE``. Its accuracy on the corpus is measured by ``nlp.evaluate`` (see the
README), not assumed.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "it")


def _split_words(text: str) -> frozenset[str]:
    """A set from whitespace-separated words (keeps long word lists readable)."""
    return frozenset(text.split())


# Words (lower-case, accents kept and stripped) that point clearly to one language.
_EN_WORDS = _split_words(
    """
        the a an and or but of to in on at for with from by about into over after before
        double charge charges code data sure fine thing things off out up
        since is are was were be been being am isn't aren't wasn't weren't do does did
        don't doesn't didn't done have has had haven't hasn't i i'm i've i'd i'll me my
        mine you you're your yours he she it it's its we we're our they they're their them
        this that these those there here what which who whom whose when where why how not
        no yes yeah yep nope can can't cannot could couldn't would wouldn't should
        shouldn't will won't may might must shall just still already again also too very
        really please pls plz thanks thank thx ty hi hello hey bye morning evening
        afternoon good great nice awesome bad worst best love hate any some all every each
        much many more most less few other another than then so if because while until
        though although since my get got getting make made let let's want wanted need
        needed know think like would've could've should've there's that's what's where's
        how's isnt dont doesnt didnt cant wont im ive youre thats whats since yesterday
        today tomorrow week month year working work works doesn't bill phone
        network signal account app help issue problem payment charged
    """
)

_IT_WORDS = _split_words(
    """
        il lo la i gli le a ad al allo alla ai agli alle così cosi qui qua lì là ecco
        dopo prima adesso ora un uno una un' l' dell' all' dall' nell' sull' c'è c'e po' di
        del della dei degli delle da dal dalla dai dagli dalle in nel nella nei negli
        nelle su sul sulla sui sugli sulle con per tra fra e ed o oppure ma però pero
        perché perche perchè xké xke che chi cui non nn si sì no è e' sono sei siamo siete
        ho hai ha abbiamo avete hanno era erano sarà sara sarebbe sarebbero stato stata
        stati essere avere fare fatto fate fa faccio potete potreste potresti posso puoi
        può puo voglio vorrei vorrei volevo dovreste dovete devo deve mi ti ci vi ne se
        anche ancora già gia più piu meno molto tanto troppo tutto tutti tutte questo
        questa questi queste quello quella quelli quelle come dove quando quanto quanti
        qual quale quali cosa mio mia miei mie tuo tua vostro vostra nostro nostra suo sua
        loro grazie ciao buongiorno buonasera salve prego cmq comunque qnd x ke nn xché
        xche anzi allora quindi invece sempre mai oggi ieri domani settimana mese anno
        niente nulla qualcosa qualche ogni bene male bello bella buono brutto vabbè vabbe
        boh mah eh beh bolletta offerta rete segnale fibra servizio clienti negozio app
        addebito credito sim chiamata chiamate numero aiuto problema funziona funzionano
        va vanno riesco riuscite bisogna serve servirebbe dovrebbe potrebbe aggiungere
        aggiungete mettere mettete magari tipo raga ragazzi scusate scusa salve spett.le
        gentili gentile distinti saluti cordiali
    """
)

# Words in both lists would be ambiguous: keep them out of both.
_SHARED = _EN_WORDS & _IT_WORDS
_EN = _EN_WORDS - _SHARED
_IT = _IT_WORDS - _SHARED

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*['’]?", re.UNICODE)
_IT_ACCENTS = frozenset("àèéìíòóùú")
_EN_ENDINGS = ("ing", "ed", "tion", "ly", "ness", "ship", "th", "ck", "ght", "ou", "ay", "ey")
_IT_ENDINGS = (
    "zione",
    "zioni",
    "mente",
    "ato",
    "ata",
    "ati",
    "ate",
    "ito",
    "ita",
    "are",
    "ere",
    "ire",
    "ando",
    "endo",
    "ssimo",
    "ssima",
    "ggio",
    "cci",
    "gli",
    "zz",
)


def detect_language(text: str) -> str:
    """'en' or 'it' for a message; ``DEFAULT_LANGUAGE`` when nothing points either way."""
    scores = language_scores(text)
    return decide(scores["en"], scores["it"])


def language_scores(text: str) -> dict[str, float]:
    """Evidence for each language; the detector picks the larger."""
    en = 0.0
    it = 0.0
    for word in _WORD_RE.findall(text[:2000].lower()):
        e, i = _word_score(word)
        en += e
        it += i
    return {"en": en, "it": it}


def token_score(token_text: str) -> tuple[float, float]:
    """(English, Italian) evidence of one token, for callers that already tokenised."""
    en = 0.0
    it = 0.0
    for word in _WORD_RE.findall(token_text.lower()):
        e, i = _word_score(word)
        en += e
        it += i
    return en, it


def decide(en: float, it: float) -> str:
    """The language for summed evidence."""
    if it > en:
        return "it"
    if en > it:
        return "en"
    return DEFAULT_LANGUAGE


_ELISION_HEADS = frozenset(
    {
        "l",
        "dell",
        "all",
        "dall",
        "nell",
        "sull",
        "un",
        "c",
        "d",
        "quest",
        "quell",
        "po",
        "com",
        "dov",
        "anch",
        "m",
        "t",
        "s",
        "v",
    }
)
_EN_CLITICS = frozenset({"t", "s", "re", "ve", "ll", "d", "m"})


def _word_score(raw: str) -> tuple[float, float]:
    word = raw.replace("’", "'")
    if word in _IT:
        return 0.0, 1.0
    if word in _EN:
        return 1.0, 0.0
    head, sep, tail = word.partition("'")
    if sep:
        # Elision such as l'app, dell'offerta, c'è, un'altra: Italian; don't, it's: English.
        if head in _ELISION_HEADS:
            return 0.0, 1.0
        if tail in _EN_CLITICS:
            return 1.0, 0.0
    weak_it = any(ch in _IT_ACCENTS for ch in word) or word.endswith(_IT_ENDINGS)
    weak_en = word.endswith(_EN_ENDINGS) or (
        len(word) > 3 and word[-1] not in "aeiouàèéìòù" and "k" not in word[:1]
    )
    if weak_it and not weak_en:
        return 0.0, 0.3
    if weak_en and not weak_it:
        return 0.25, 0.0
    if word[-1:] in "aeiou" and len(word) > 3:
        return 0.0, 0.1
    return 0.0, 0.0
