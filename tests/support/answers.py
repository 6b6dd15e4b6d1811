"""The answer book's roaming answer, in English and Italian, as staff add it."""

ROAMING_EN = (
    "/answer add en network | Turn on roaming before a trip | Open the app, go to Settings, "
    "Roaming, and switch roaming on before you travel abroad; it works in a few minutes."
)
ROAMING_IT = (
    "/answer add it network | Attivare il roaming prima di un viaggio | Apri l'app, vai in "
    "Impostazioni, Roaming, e attiva il roaming prima di partire per l'estero."
)
