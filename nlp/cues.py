"""Word classes and message-shape cues, as extra features for the classifiers.

A word seen once in training teaches the model little; a word *class* (fault words, negation,
suggestion modals, thanks...) is seen often, so its weight is learned well and carries over
to class members the corpus lacks. Lists are English and Italian, lower-case, accents
stripped (the feature extractor strips accents before looking words up). The classifier
learns how much each class matters; nothing here is a hard rule.
"""

from __future__ import annotations

_CLASSES: dict[str, str] = {
    "NEG": """
        not no never nothing nobody none nowhere cannot cant can't won't wont don't dont
        doesn't doesnt didn't didnt isn't isnt aren't arent wasn't wasnt haven't havent
        hasn't hasnt couldn't couldnt without n't non nn mai niente nulla nessuno nessuna
        nessun neanche nemmeno neppure senza manco
    """,
    "FAULT": """
        broken broke break breaks down error errors fail fails failed failing failure crash
        crashes crashed crashing freeze freezes frozen stuck slow slower dead drop drops
        dropped dropping lost lose losing missing wrong overcharged overcharge charged
        disconnect disconnects disconnected disconnecting outage outages issue issues problem
        problems bug bugs glitch faulty fault useless unusable blocked locked cut cuts
        unreachable nonstop keeps constantly disappeared vanished weird unable impossible
        guasto guasti guasta rotto rotta rotti errore errori bloccato bloccata bloccati blocca
        bloccano lento lenta lentissima lentissimo giu staccato staccata stacca
        staccano cade cadono caduta cadute sparito sparita sparite scomparso scomparsa
        sbagliato sbagliata sbagliati sbagliate problema problemi disservizio disservizi
        interruzione interruzioni impossibile inutilizzabile morta morto tilt difettoso
        difettosa stopped stops rude refused refuses hung mess messed gone weak capped
        cancelled canceled declined rejected bounced overheats overheating flickering
        reboots restarting buffering lagging laggy patchy spotty intermittent terrible
        maleducato maleducata scortese rifiutato rifiutata rifiuta muta isolata isolato
        sospesa sospeso annullato annullata respinto respinta bruciato bruciata riavvia
        scarsa scarso pessima pessimo lentezza disastro casino
    """,
    "STATUS": """
        news update updates status progress decided decision heard follow follow-up
        novita aggiornamento aggiornamenti stato punto fine deciso decisione valutando
        sapere notizie riscontro
    """,
    "EXTEND": """
        also more extra too even additional another new
        anche piu extra pure ulteriore nuovo nuova nuovi nuove altro altra
    """,
    "DEMAND": """
        fix fixed sort escalate cancel close refund stop complaint complain complaining
        claim compensation dispute urgent urgently asap immediately now today sort-out
        sistemate sistematelo sistemare risolvete risolvere rimborsate rimborsatemi disdetta
        disdire annullate annullare chiudete chiudere reclamo reclami lamentela segnalazione
        segnalazioni urgente subito immediatamente adesso basta
    """,
    "FUNCTION": """
        work works working worked load loads loading connect connects connecting connection
        signal coverage speed
        funziona funzionano funzionava funzionante va vanno andava naviga prende prendeva
        carica caricare connessione collega segnale copertura velocita linea
    """,
    "MONEY_ISSUE": """
        charged charge charges refund refunds overcharged debit debited fee fees double twice
        paid pay payment payments bill bills invoice invoices euro euros eur
        addebito addebiti addebitato addebitati addebitata rimborso rimborsi rimborsate
        pagato pagata pagare pagamento pagamenti bolletta bollette fattura fatture costo costi
        soldi mora conguaglio doppio doppia
    """,
    "PERSIST": """
        since still again yet anymore every always days weeks hours yesterday today tonight
        morning week month constantly repeatedly already
        ancora ogni sempre giorni settimane ore ieri oggi stamattina stasera
        settimana mese piu ormai gia continua continuamente
    """,
    "ASK": """
        how why what when where which who whom whose can could is are does do did will
        anyone anybody help please explain
        come perche perché cosa quando dove quale quali chi quanto quanti posso potete
        puoi riesco aiuto aiutatemi aiutami spiegate spiegatemi help
    """,
    "SUGGEST": """
        should would could suggest suggestion suggestions propose proposal idea ideas
        maybe perhaps wish consider add adding introduce offer allow let option options
        feature features nice cool great useful helpful love prefer rather instead
        dovreste potreste potresti sarebbe sarebbero vorrei piacerebbe suggerisco
        suggerimento propongo proposta idea idee magari aggiungere aggiungete aggiungerei
        introdurre introducete offrire offrite permettere permettete consentire opzione
        possibilita funzione funzionalita comodo utile bello carino meglio invece mettete
        mettere fate creare create vorrebbe servirebbe
    """,
    "THANKS": """
        thanks thank thx ty cheers grateful appreciate appreciated
        grazie ringrazio ringraziamenti gentilissimi gentili
    """,
    "PRAISE": """
        great perfect excellent amazing awesome brilliant fantastic super top wonderful
        love loving happy glad impressed fast quick smooth flawless best well good nice
        ottimo ottima perfetto perfetta eccellente fantastico fantastica bravissimi bravi
        bravo brava complimenti felice felicissimo contento contenta veloce velocissima
        benissimo bene meraviglia spaziale grande
    """,
    "ANGER": """
        ridiculous joke shame shameful disgrace disgraceful pathetic unacceptable absurd
        scam thieves fed furious angry annoyed sick tired worst terrible awful horrible
        rubbish useless seriously wtf
        vergogna vergognatevi ridicolo ridicoli assurdo assurda scandalo scandaloso ladri
        truffa impazziti basta stufo stufa incredibile pessimo pessima schifo vergognoso
        inaccettabile allucinante
    """,
    "WAIT": """
        wait waiting waited queue queued hold held hour hours minutes days weeks months late
        delay delayed overdue pending
        attesa aspetto aspettando aspettato aspettare coda ore minuti giorni settimane mesi
        ritardo tardi sospeso sospesa pendente
    """,
    "PROMISE": """
        promised told said supposed expected assured guaranteed advertised agreed
        promesso promessa detto doveva dovevano garantito garantita pubblicizzato concordato
        assicurato
    """,
    "ARRIVE": """
        arrived arrive arrives received receive came come delivered reply replied answer
        answered called callback respond responded shown activated
        arrivato arrivata arrivati arriva arrivano ricevuto ricevuta ricevo consegnato
        consegnata risposto risposta richiamato richiamata attivato attivata visto vista
    """,
    "CAN_I": """
        can may possible allowed able how
        posso possiamo possibile puo consentito riesco riesce faccio
    """,
    "FIRST_PERSON": """
        i i'm i've i'd my me mine myself we our us
        io mi mio mia miei mie ho sono noi nostro nostra abbiamo
    """,
    "YOU": """
        you your yours you're you've
        voi vostro vostra vostri vostre avete siete vi
    """,
    "INFO_ONLY": """
        fyi just only already done paid sorted fixed resolved solved works anyway
        solo gia fatto fatta pagato pagata pagate sistemato sistemata risolto risolta
        comunque avvisarvi dirvelo informarvi
    """,
    "GREET": """
        hi hello hey morning evening afternoon bye goodbye ok okay fine cool sure
        ciao buongiorno buonasera salve arrivederci perfetto capito ricevuto
    """,
    "SMALLTALK": """
        weather rain monday friday weekend football match holiday holidays lol haha
        tempo pioggia piove lunedi venerdi weekend partita calcio vacanze ferie ahah ahaha
    """,
}

CLASS_NAMES = frozenset(_CLASSES)
# Word classes that open a negation scope for the next few words.
NEGATION = "NEG"
WORD_CLASSES: dict[str, tuple[str, ...]] = {}
for _name, _words in _CLASSES.items():
    for _word in _words.split():
        WORD_CLASSES[_word] = (*WORD_CLASSES.get(_word, ()), _name)


def _split_words(text: str) -> frozenset[str]:
    """A set from whitespace-separated words (keeps long word lists readable)."""
    return frozenset(text.split())


_QUESTION_START = _split_words(
    """
        how why what when where which who can could is are does do did will would should
        come perche cosa quando dove quale quali chi quanto quanti posso potete potreste
        puoi c'e avete
    """
)
# Italian conditional endings: metterei, prenderei, fareste, vedrebbero, starebbe.
_IT_CONDITIONAL = ("erei", "irei", "arei", "rebbe", "rebbero", "reste", "remmo", "resti")
_ANGRY_EMOJI = frozenset("😡😠🤬😤😩😫🙄😒😞😢😭👎💩🤦💀🐌📉📈❌🔴⛔🚫🤡😑🥲😔🙁😣😖😓😰⚠")
_HAPPY_EMOJI = frozenset("😀😃😄😁😊🙂😍🥰😘👍👏🙏❤💪🎉🔥✨😎🤩👌")
_IDEA_EMOJI = frozenset("💡🤔")


def token_cues(orth: str, plain_lower: str) -> tuple[str, ...]:
    """Cue names of one token: its word classes and its shape.

    ``orth`` is the token as written, ``plain_lower`` lower-cased without accents.
    """
    cues = list(WORD_CLASSES.get(plain_lower, ()))
    if len(plain_lower) > 5 and plain_lower.endswith(_IT_CONDITIONAL):
        cues.append("CONDITIONAL")
    if "?" in orth:
        cues.append("Q_MARK")
    if "!" in orth:
        cues.append("EXCL")
    if len(orth) > 2 and orth.isalpha() and orth.isupper():
        cues.append("UPPER_WORD")
    chars = set(orth)
    if chars & _ANGRY_EMOJI:
        cues.append("EMOJI_ANGRY")
    if chars & _HAPPY_EMOJI:
        cues.append("EMOJI_HAPPY")
    if chars & _IDEA_EMOJI:
        cues.append("EMOJI_IDEA")
    if any(ch.isdigit() for ch in orth):
        cues.append("DIGITS")
    if chars & {"€", "$", "£"}:
        cues.append("CURRENCY")
    return tuple(cues)


def is_question_start(plain_lower: str) -> bool:
    return plain_lower in _QUESTION_START


def length_cue(n_tokens: int) -> str:
    if n_tokens <= 2:
        return "LEN_1_2"
    if n_tokens <= 6:
        return "LEN_3_6"
    if n_tokens <= 15:
        return "LEN_7_15"
    return "LEN_16_PLUS"
