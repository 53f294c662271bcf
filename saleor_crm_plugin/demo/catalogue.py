"""The demo store's channels, products and people."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Channel:
    pk: int
    slug: str
    currency: str
    decimals: int
    per_eur: Decimal  # rough price level: local price of 1 EUR of goods
    countries: tuple[str, ...]
    shipping: Decimal
    weight: int


CHANNELS = (
    Channel(1, "default-channel", "USD", 2, Decimal("1.08"), ("US",), Decimal("7.99"), 24),
    Channel(
        3,
        "channel-eur",
        "EUR",
        2,
        Decimal("1"),
        ("DE", "AT", "FR", "ES", "IT", "NL"),
        Decimal("4.99"),
        30,
    ),
    Channel(2, "channel-pln", "PLN", 2, Decimal("4.3"), ("PL",), Decimal("14.99"), 10),
    Channel(4, "channel-jpy", "JPY", 0, Decimal("160"), ("JP",), Decimal("1200"), 10),
    Channel(6, "channel-gbp", "GBP", 2, Decimal("0.86"), ("GB",), Decimal("3.99"), 10),
    Channel(7, "channel-brl", "BRL", 2, Decimal("5.9"), ("BR",), Decimal("29.90"), 6),
    Channel(5, "channel-kwd", "KWD", 3, Decimal("0.33"), ("KW",), Decimal("2.500"), 4),
    Channel(8, "channel-aud", "AUD", 2, Decimal("1.65"), ("AU",), Decimal("9.95"), 6),
)

LANGUAGES = {
    "US": "EN",
    "DE": "DE",
    "AT": "DE",
    "FR": "FR",
    "ES": "ES",
    "IT": "IT",
    "NL": "NL",
    "PL": "PL",
    "JP": "JA",
    "GB": "EN",
    "BR": "PT_BR",
    "KW": "AR",
    "AU": "EN",
}
TLD = {"US": "com", "GB": "co.uk", "AU": "com.au", "BR": "com.br", "JP": "jp", "KW": "kw"}
CITIES = {
    "US": "NEW YORK",
    "DE": "BERLIN",
    "AT": "WIEN",
    "FR": "PARIS",
    "ES": "MADRID",
    "IT": "ROMA",
    "NL": "AMSTERDAM",
    "PL": "WARSZAWA",
    "JP": "TOKYO",
    "GB": "LONDON",
    "BR": "SAO PAULO",
    "KW": "KUWAIT CITY",
    "AU": "SYDNEY",
}
NAMES = {
    "EN": (("Emma", "Liam", "Olivia", "Noah", "Ava"), ("Smith", "Johnson", "Brown", "Taylor")),
    "DE": (("Anna", "Lukas", "Mia", "Felix", "Lena"), ("Müller", "Schmidt", "Weber", "Fischer")),
    "FR": (("Chloé", "Louis", "Léa", "Hugo"), ("Dupont", "Martin", "Bernard", "Petit")),
    "ES": (("Lucía", "Hugo", "Sofía", "Mateo"), ("García", "López", "Martínez", "Sánchez")),
    "IT": (("Giulia", "Marco", "Sofia", "Luca"), ("Rossi", "Russo", "Ferrari", "Bianchi")),
    "NL": (("Sanne", "Daan", "Emma", "Sem"), ("de Jong", "Jansen", "de Vries", "Bakker")),
    "PL": (("Zofia", "Jan", "Julia", "Piotr"), ("Kowalski", "Nowak", "Wiśniewska", "Wójcik")),
    "JA": (("Yuki", "Haruto", "Sakura", "Ren"), ("Tanaka", "Suzuki", "Sato", "Takahashi")),
    "PT_BR": (("Ana", "João", "Beatriz", "Pedro"), ("Silva", "Santos", "Oliveira", "Souza")),
    "AR": (("Fahad", "Noura", "Omar", "Mariam"), ("Al-Sabah", "Al-Mutairi", "Al-Ajmi")),
}


@dataclass(frozen=True)
class Product:
    pk: int
    variant_pk: int
    name: str
    slug: str
    category: str
    category_pk: int
    eur: Decimal


_CATEGORIES = (
    ("juices", ("Apple Juice", "Orange Juice", "Carrot Juice", "Banana Juice")),
    ("t-shirts", ("Monospace Tee", "Dash Tee", "Polo Shirt", "Team Tee")),
    ("sneakers", ("Runner", "Court Classic", "Trail Pro")),
    ("hoodies", ("Blue Hoodie", "Grey Hoodie", "Zip Hoodie")),
    ("audiobooks", ("Paul's Balance 420", "Mighty Mountains", "Ocean Tales")),
    ("baby", ("Stroller", "Baby Carrier", "Soft Blanket", "Bottle Set")),
    ("home", ("Ceramic Mug", "Linen Towel", "Scented Candle")),
    ("gift-cards", ("Gift Card 25", "Gift Card 100")),
)


def _catalogue() -> tuple[Product, ...]:
    products = []
    pk = 100
    prices = ("3.49", "12.90", "24.00", "49.00", "89.00", "129.00", "8.50", "19.99", "34.90")
    for category_pk, (category, names) in enumerate(_CATEGORIES, start=30):
        for name in names:
            pk += 1
            products.append(
                Product(
                    pk,
                    pk + 300,
                    name,
                    name.lower().replace(" ", "-").replace("'", ""),
                    category,
                    category_pk,
                    Decimal(prices[pk % len(prices)]),
                )
            )
    return tuple(products)


PRODUCTS = _catalogue()


def local_price(product: Product, channel: Channel) -> Decimal:
    exponent = Decimal(1).scaleb(-channel.decimals)
    return (product.eur * channel.per_eur).quantize(exponent, rounding=ROUND_HALF_UP)
