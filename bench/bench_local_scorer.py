"""Messages per second of LocalScorer on one core, for ~100-character messages, cold.

    python bench/bench_local_scorer.py [--runs 7] [--messages 5000] [--seed 7]
    python bench/bench_local_scorer.py --corpus ../shared/data/goemotions/original/dev.tsv

Every run loads a fresh scorer (so its per-word cache starts empty; loading is timed
separately) and scores messages it has not seen: by default each run gets its own batch of
generated support messages (many templates, a large vocabulary of products, places, names,
order numbers, dates, typos and shouting, so that most words are new to the scorer), with
``--corpus`` the lines of a TSV's first column joined into ~100-character messages. Prints each
run and the median. One core (sched_setaffinity) where the OS allows it. The language detector
(loaded once per process, at the first message that may not be English) is loaded before the
first run's clock starts, as ``bench_ab_local_scorer.py`` does.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.options import positive_int  # noqa: E402

from ticketpulse.sentiment import language  # noqa: E402
from ticketpulse.sentiment.local import LocalScorer  # noqa: E402

# --- a synthetic but diverse support inbox ------------------------------------------------------
FIRST = """Aaliyah Ahmed Aiko Alejandro Amara Anders Anya Arjun Astrid Beatriz Bilal Bogdan Camille
    Carlos Chen Chiara Chidi Dafne Dmitri Ebony Elif Emeka Esther Farah Felipe Fiona Gustav Hana
    Hamid Ines Ingrid Isabela Jamal Jana Jorge Kai Kavya Keanu Kenji Laila Lars Leilani Lucia
    Mads Malik Marisol Mateo Mehmet Mia Nadia Nikos Noor Obi Olga Omar Paulo Priya Quentin Rafael
    Rania Rohan Rosa Saanvi Santiago Sakura Selin Sven Tariq Thandiwe Tomasz Uma Valentina Viktor
    Wen Ximena Yara Yusuf Zainab Zofia""".split()
PRODUCTS = """router modem thermostat doorbell headphones earbuds laptop tablet smartwatch printer
    scanner camera dashcam blender kettle toaster airfryer espresso-machine vacuum robot-mower
    treadmill e-bike scooter stroller carseat mattress sofa desk monitor keyboard mouse webcam
    microphone speaker soundbar projector charger powerbank dishwasher fridge freezer oven
    microwave washer dryer heater humidifier purifier drone gimbal tripod backpack suitcase
    jacket sneakers boots sunglasses perfume serum moisturizer vitamins protein-powder
    subscription gift-card voucher membership warranty""".split()
BRANDS = """Zentrix Nordvik Aurelo Kestrel Lumora Quillfen Brightwave Solvane Tekkora Veltrix Ombrio
    Haldane Cobaltix Fjordline Mirabel Pexo Glimmer Rovanta Stratos Ulvik Windlass Yarrow""".split()
PLACES = """Lisbon Leeds Lagos Lyon Lima Manila Madrid Marseille Melbourne Memphis Milan Minsk
    Montreal Mumbai Munich Nairobi Naples Oslo Osaka Ottawa Porto Prague Pune Quito Reno Riga
    Rotterdam Seville Sofia Stuttgart Tallinn Tampa Toronto Tucson Turin Utrecht Valencia Vienna
    Vilnius Warsaw Wellington Winnipeg Zagreb Zurich Denver Dublin Durban Gdansk Ghent Graz
    Hanoi Helsinki Houston Izmir Jakarta Kyoto""".split()
CARRIERS = "DHL UPS FedEx USPS Hermes DPD GLS Evri PostNL Royal-Mail La-Poste Correos".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
ISSUES = """won't turn on | keeps disconnecting from wifi | arrived with a cracked screen | makes a
    grinding noise | stopped charging | shows error E{e} | is missing the power cable | overheats
    after ten minutes | won't pair with my phone | firmware update failed | the app crashes on
    login | the battery drains overnight | the left side has no sound | the lid doesn't close |
    leaks water | smells like burning plastic | the display flickers | was the wrong colour |
    came in the wrong size | the zipper broke on day two | the strap snapped | the hinge is
    loose | the remote is dead | the paint is scratched | the box was soaked""".split("|")
OPENERS = ["Hi", "Hello", "Hey", "Good morning", "Dear support", "Hi there", "Hello team", "Yo",
           "Hi {first}", "To whom it may concern", "Morning", "Hey folks", "", "", "", ""]
CLOSERS = ["Thanks.", "Thanks in advance!", "Cheers, {first}", "Regards, {first}", "Please advise.",
           "Any update?", "Help!", "Sort it out.", "Kind regards.", "thx", "ty", "Much appreciated.",
           "This is ridiculous.", "Really disappointed.", "Not happy.", "Great job, thanks!", "", ""]
TEMPLATES = [
    "my {brand} {product}: {issue}. order #{order}",
    "The {product} I bought in {place} on {weekday} {issue}, can you send a replacement?",
    "Order {order} was supposed to arrive {weekday} but {carrier} says it's still in {place}.",
    "I was charged {money} twice for the {brand} {product} (invoice {invoice}).",
    "{carrier} left my parcel at the wrong address in {place}, tracking {tracking}.",
    "Still no refund for the {product} I returned on {day} {month}. It's been {n} weeks!",
    "How do I change the delivery address for order {order}? I moved to {place}.",
    "Can you tell me if the {brand} {product} is compatible with the {product2}?",
    "Third time asking: where is my {product}?? Ticket {ticket} has no reply.",
    "Your agent {first} was super helpful with my {product}, really appreciate it!",
    "Love the new {brand} {product}, setup took two minutes. Great work.",
    "I've been on hold for {n} minutes trying to reach someone about my {product}.",
    "The {product} {issue}. I need it working by {weekday} for a trip to {place}.",
    "Please cancel my {brand} subscription, account {email}, effective {day} {month}.",
    "Is there a discount code for students? Thinking about the {product} and {product2}.",
    "Got the {product} today, but the {product2} in the same order is missing.",
    "I want to speak to a manager. {n} emails and nobody has fixed my {product}.",
    "Quick question: does the warranty on the {product} cover accidental damage?",
    "my {product} {issue} again, this is the {ord} replacement. unacceptable",
    "URGENT: our shop in {place} can't take payments, the {brand} terminal {issue}",
    "Thank you {first}! The new {product} arrived a day early in {place}.",
    "Hi, I ordered a {colour} {product} but got a {colour2} one. Can I swap it?",
    "Your website logged me out {n} times while paying for the {product}, so annoying",
    "When will the {brand} {product} be back in stock in {place}? Been waiting since {month}.",
    "The courier from {carrier} was rude and threw the {product} over the fence.",
    "Refund of {money} for order {order} still hasn't shown on my card after {n} days.",
    "Is it possible to pick up order {order} from your {place} store on {weekday}?",
    "The manual for the {product} is in {lang} only, do you have it in English?",
    "{first} from your {place} branch promised a callback on {weekday}. Nothing.",
    "Honestly the best {product} I've owned, but the {product2} app needs dark mode.",
    "my kid spilled juice on the {product}, is that covered? serial {serial}",
    "Need an invoice with VAT number {vat} for order {order} please, for accounting.",
    "Booked a repair slot for {day} {month} at {time} but nobody showed up.",
    "Why does the {brand} app need my location just to set up a {product}?",
    "I'm done with {brand}. {product} broke twice in {n} months. Taking my business elsewhere.",
    "Password reset email never arrives at {email}, checked spam already.",
    "The {product} is fine but shipping to {place} took {n} days, a bit slow.",
    "can u check order {order}? app says delivered but nothing here in {place}",
    "Upgraded to the {brand} premium plan and the {product} sync stopped working.",
    "Great service in the {place} shop today, {first} sorted my {product} in minutes.",
    "The {adj} {noun} on my {model} is {adj2} and the {noun2} came off.",
    "I use the {product} for {activity} and the {noun} {issue}.",
    "Please send the parcel to {num} {street} {suffix}, not the old address.",
    "{first} {surname} here, account {email}. My {noun} reset itself overnight.",
    "Bought a {newbrand} {product} ({model}) for {activity}; the {noun} is {adj}.",
    "Does the {model} come with a {adj} {noun} or do I buy it separately?",
    "The {noun} and {noun2} in my {newbrand} order were both {adj}. Not impressed.",
    "Returned the {adj} {product} at the {place} {street} {suffix} store, no refund yet.",
    "Your {noun} page shows {money} but checkout charged {money2}. Which is right?",
    "Mr {surname} from billing said the {noun} would be waived. It wasn't.",
    "Loving the {adj} {noun} on the new {model}, perfect for {activity}!",
    "The {newbrand} {noun} keeps {verbing} every few minutes, tried a {adj2} {noun2} too.",
    "My {relative} ordered a {colour} {product} for my birthday and it arrived {adj}.",
    "Can I combine my {noun} points with the {newbrand} voucher {code}?",
    "Ticket {ticket}: {noun} still {adj} after the technician visit on {weekday}.",
    "Is the {model} {noun} compatible with the {newbrand} {noun2}? Manual doesn't say.",
    "It's {adj} that I have to phone {place} every time my {noun} needs a {noun2}.",
    "Delivered to {num} {street} {suffix} instead of {num2}. Neighbour {first} has it now.",
    "Five stars for {first} at the {place} desk, fixed the {noun} and explained the {noun2}.",
]
RELATIVES = "mum dad sister brother aunt uncle grandma grandpa cousin partner wife husband son daughter".split()
VERBINGS = """beeping rebooting buffering flickering overheating disconnecting freezing lagging
    vibrating clicking dimming unpairing resetting logging-out crashing""".split()
SURNAMES = """Abara Bergstrom Castellanos Dubois Eriksen Fontaine Gallagher Horvath Ibrahim Jovanovic
    Kowalski Lindqvist Moreau Nakamura Okafor Petrov Quinlan Rasmussen Schneider Takahashi
    Umarov Vasquez Wojcik Xiong Yilmaz Zielinski Achterberg Bianchi Chowdhury Delacroix Esposito
    Fitzgerald Gutierrez Haddad Iwasaki Jankowski Kaczmarek Lombardi Mahlangu Novak Oyelaran
    Papadopoulos Radcliffe Sandoval Thorsen Urquhart Valdivia Whitlock Yamamoto Zapata""".split()
STREETS = """Maple Oak Cedar Birch Willow Elm Chestnut Juniper Magnolia Sycamore Hawthorn Laurel
    Station Market Church Mill Bridge Harbour Orchard Meadow Quarry Foundry Canal Garden""".split()
SUFFIXES = "Street Road Lane Avenue Close Drive Way Crescent Terrace Court".split()
ADJECTIVES = """old new spare second heavy light small large cheap expensive refurbished vintage
    portable wireless wired compact foldable waterproof rechargeable digital manual automatic
    stainless ceramic wooden plastic metal glass leather cotton woollen bamboo recycled organic
    ergonomic adjustable quiet noisy bright dim warm cold sticky fragile sturdy wobbly shiny
    matte glossy faded dusty soggy dented bent scratched chipped frayed tangled loose tight
    blurry grainy laggy sluggish crunchy squeaky rattling humming buzzing clicking beeping
    flashing blinking""".split()
NOUNS = """cable adapter plug socket fuse switch button knob dial screen panel lens sensor fan
    filter nozzle valve hose pump motor belt wheel tyre spoke pedal chain brake handle strap
    buckle zipper pocket lining seam sole heel lace collar sleeve cuff hood lid hinge latch
    drawer shelf bracket screw bolt washer gasket seal cartridge toner ink nib refill bottle jar
    pouch sachet capsule pod tray rack basket bin carton crate pallet label sticker receipt
    voucher coupon leaflet manual booklet certificate warranty invoice statement contract
    password username pin code token licence key dongle router antenna booster extender
    repeater hub dock stand mount clamp case cover sleeve skin protector charger battery cell
    firmware driver patch update installer plugin widget dashboard inbox calendar spreadsheet
    backup folder album playlist podcast channel feed profile avatar badge streak reward points
    tier upgrade downgrade renewal instalment deposit balance allowance quota bandwidth
    latency signal reception coverage roaming tariff bundle allowance voicemail hotspot""".split()
ACTIVITIES = """gardening cycling baking knitting camping fishing climbing rowing commuting studying
    podcasting streaming gaming vlogging photography birdwatching woodworking pottery painting
    sewing hiking surfing skiing skating running swimming cooking brewing fermenting
    beekeeping carpentry calligraphy origami astronomy geocaching""".split()
SYLLABLES = "ka lo mi ra ve to sun dri ax el or qui zen tri vo na pex lu mar io cy bel fen gor tal".split()
COLOURS = "black white silver grey navy teal olive coral mustard burgundy lilac beige".split()
LANGS = "German Polish Turkish Japanese Italian Dutch Korean Swedish Czech Greek".split()
ORDS = "second third fourth fifth".split()


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.35:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap
    if kind < 0.65:
        return word[:i] + word[i + 1:]  # drop
    if kind < 0.85:
        return word[:i] + word[i] + word[i:]  # double
    return word[:i] + rng.choice("qwertyuiopasdfghjklzxcvbnm") + word[i + 1:]  # wrong key


def _sentence(rng: random.Random) -> str:
    first = rng.choice(FIRST)
    fill = {
        "first": first, "brand": rng.choice(BRANDS), "product": rng.choice(PRODUCTS),
        "product2": rng.choice(PRODUCTS), "place": rng.choice(PLACES),
        "carrier": rng.choice(CARRIERS), "weekday": rng.choice(WEEKDAYS),
        "month": rng.choice(MONTHS), "day": rng.randint(1, 28), "n": rng.randint(2, 60),
        "order": rng.choice(["", "A", "UK-", "#", "ORD"]) + str(rng.randint(10000, 9999999)),
        "invoice": f"INV-{rng.randint(2019, 2026)}-{rng.randint(1, 99999):05d}",
        "tracking": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12)),
        "ticket": f"{rng.randint(100000, 999999)}", "money": f"${rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
        "email": f"{first.lower()}.{rng.choice(PLACES).lower()}{rng.randint(1, 99)}@example.com",
        "issue": rng.choice(ISSUES).strip().format(e=rng.randint(10, 99)),
        "colour": rng.choice(COLOURS), "colour2": rng.choice(COLOURS), "lang": rng.choice(LANGS),
        "ord": rng.choice(ORDS), "serial": f"SN{rng.randint(10**7, 10**8)}",
        "vat": f"{rng.choice(['DE', 'FR', 'NL', 'PL', 'IE'])}{rng.randint(10**8, 10**9)}",
        "time": f"{rng.randint(8, 18)}:{rng.choice(['00', '15', '30', '45'])}",
        "surname": rng.choice(SURNAMES), "street": rng.choice(STREETS), "suffix": rng.choice(SUFFIXES),
        "adj": rng.choice(ADJECTIVES), "adj2": rng.choice(ADJECTIVES), "noun": rng.choice(NOUNS),
        "noun2": rng.choice(NOUNS), "activity": rng.choice(ACTIVITIES), "num": rng.randint(1, 250),
        "num2": rng.randint(1, 250), "money2": f"${rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
        "newbrand": "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize(),
        "model": rng.choice(["X", "Pro ", "KX-", "Air ", "M", "Neo ", "S"]) + str(rng.randint(2, 9999))
        + rng.choice(["", "", " Max", " Lite", "s", "e", " Plus"]),
        "code": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
        "relative": rng.choice(RELATIVES), "verbing": rng.choice(VERBINGS),
    }
    s = rng.choice(TEMPLATES).format(**fill)
    words = s.split(" ")
    if rng.random() < 0.4:  # a typo or two
        for _ in range(rng.randint(1, 2)):
            k = rng.randrange(len(words))
            words[k] = _typo(words[k], rng)
    s = " ".join(words)
    r = rng.random()
    if r < 0.08:
        s = s.upper()
    elif r < 0.25:
        s = s.lower()
    return s


def generated_messages(n: int, seed: int) -> list[str]:
    """n support messages of about 100 characters (opener, one or two sentences, closer)."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        parts = [rng.choice(OPENERS).format(first=rng.choice(FIRST))]
        parts.append(_sentence(rng))
        if len(" ".join(parts)) < 75:
            parts.append(_sentence(rng))
        if len(" ".join(parts)) < 100:
            parts.append(rng.choice(CLOSERS).format(first=rng.choice(FIRST)))
        msg = " ".join(p for p in parts if p)
        if len(msg) > 130:
            msg = msg[:130].rsplit(" ", 1)[0]
        out.append(msg)
    return out


def corpus_messages(path: Path, min_chars: int = 65) -> list[str]:
    """The first column of a TSV, lines joined in order (with a space) until a message has at
    least ``min_chars`` characters; for GoEmotions comments that gives about 100-110 characters
    a message."""
    out, cur = [], ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text = line.split("\t", 1)[0].strip()
        if not text:
            continue
        cur = f"{cur} {text}" if cur else text
        if len(cur) >= min_chars:
            out.append(cur)
            cur = ""
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=positive_int, default=7)
    parser.add_argument("--messages", type=int, default=5000, help="per run (generated corpus)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, help="TSV whose first column is joined into messages")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    if args.corpus:
        fixed = corpus_messages(args.corpus)
        batches = [fixed] * args.runs  # a fresh scorer each run has seen none of them
        what = f"{args.corpus.name} joined"
    else:
        # a different batch per run: neither the scorer nor the run has seen these messages
        batches = [generated_messages(args.messages, args.seed * 1000 + run) for run in range(args.runs)]
        what = "generated support messages"
    # The language detector's model loads once per process, at the first message that may not be
    # English (about a second of CPU): loaded here, before any clock, and reported on its own.
    start = time.perf_counter()
    language.preload()
    detector_load = time.perf_counter() - start
    rates, loads = [], []
    version = ""
    for run, batch in enumerate(batches):
        start = time.perf_counter()
        scorer = LocalScorer()  # cold: empty per-word cache
        loads.append(time.perf_counter() - start)
        version = scorer.version
        start = time.perf_counter()
        for text in batch:
            scorer.score(text)
        rate = len(batch) / (time.perf_counter() - start)
        rates.append(rate)
        print(f"run {run + 1}: {rate:,.0f} messages/s (cold scorer, load {loads[-1] * 1000:.0f} ms)")
    n = len(batches[0])
    mean_len = sum(map(len, batches[0])) / n
    words = {w for b in batches[:1] for t in b for w in t.lower().split()}
    print(f"median: {statistics.median(rates):,.0f} messages/s ({what}: {n} messages per run, "
          f"mean {mean_len:.0f} characters, {len(words):,} distinct words in run 1; one core, "
          f"fresh scorer per run, model {version}; median load {statistics.median(loads) * 1000:.0f} ms, "
          f"language detector loaded once first in {detector_load * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
