"""Generates ``data/products.csv``, the course catalogue, from a fixed seed.

The rows are made, not hand-typed, so they can be large and varied (about 5,000 products over a dozen
categories) and still identical on every machine: a test regenerates the file and compares bytes.
The variety is chosen for the lessons: JSONB metadata with nested objects and per-category keys
(licences for software, authors for books), tag arrays that overlap across categories, a few tags
with commas and quotes (which break hand-built array literals), and two small categories whose
total stock is low enough for the inventory-alert challenge.

Regenerate with ``python scripts/generate_products.py data/products.csv``. A maintainer's tool: it is
not part of the ``pglab`` package and not in the learners' bundle.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pglab.learner.catalogue import pg_array_literal

SEED = 20260301
COLUMNS = ("id", "name", "price", "category", "tags", "metadata", "stock", "created_at", "updated_at")
FIRST_DAY = datetime(2024, 1, 1, tzinfo=timezone.utc)
LAST_DAY = datetime(2026, 10, 31, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Category:
    name: str
    count: int
    price_range: tuple[float, float]
    stock_range: tuple[int, int]
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    tags: tuple[str, ...]


CATEGORIES = (
    Category("electronics", 720, (9.0, 1800.0), (0, 400),
             ("Wireless", "Smart", "Portable", "Compact", "Pro", "Ultra", "Noise-Cancelling"),
             ("Headphones", "Speaker", "Charger", "Webcam", "Monitor", "Keyboard", "Mouse", "Router",
              "Smartwatch", "Tablet", "Power Bank", "Microphone"),
             ("Voltra", "Nimbus", "Kestrel", "Arcwave", "Lumen"),
             ("wireless", "usb-c", "bluetooth", "4k", "gaming", "home-office", "rechargeable")),
    Category("books", 820, (4.99, 89.0), (0, 250),
             ("Practical", "Modern", "Essential", "Hands-On", "Effective", "Advanced", "Gentle"),
             ("Python", "PostgreSQL", "SQL", "Data Engineering", "Statistics", "Web APIs", "Linux",
              "Distributed Systems", "Machine Learning", "Cooking", "Gardening", "History"),
             ("O'Malley Press", "Northfield", "Blue Heron", "Quarto House"),
             ("python", "postgresql", "paperback", "hardcover", "beginner", "reference", "ebook")),
    Category("kitchen", 560, (3.5, 420.0), (0, 600),
             ("Stainless", "Cast-Iron", "Non-Stick", "Bamboo", "Ceramic", "Glass"),
             ("Skillet", "Chef Knife", "Cutting Board", "Kettle", "French Press", "Mixing Bowl",
              "Spatula", "Dutch Oven", "Grinder", "Scale"),
             ("Hearthline", "Copperleaf", "Miso & Co", "Tabletop"),
             ("dishwasher-safe", "induction", "bpa-free", "gift-idea", "eco-friendly")),
    Category("garden", 460, (2.0, 650.0), (0, 500),
             ("Heavy-Duty", "Folding", "Solar", "Raised", "Ergonomic", "Weatherproof"),
             ("Trowel", "Hose", "Planter", "Pruner", "Lantern", "Wheelbarrow", "Seed Tray",
              "Bird Feeder", "Compost Bin"),
             ("Greenway", "Fernhill", "Rootstock"),
             ("outdoor", "eco-friendly", "solar", "organic", "weatherproof")),
    Category("toys", 500, (4.0, 220.0), (0, 450),
             ("Wooden", "Magnetic", "Glow-in-the-Dark", "Musical", "Classic", "Build-Your-Own"),
             ("Puzzle", "Train Set", "Robot Kit", "Board Game", "Kite", "Plush Bear", "Blocks",
              "Marble Run"),
             ("Playwell", "Tinker & Toad", "Kiddo Lab"),
             ("stem", "ages-3-plus", "ages-8-plus", "kids, 3+", "gift-idea", "battery-free")),
    Category("sports", 540, (6.0, 1200.0), (0, 350),
             ("Lightweight", "Carbon", "Insulated", "Adjustable", "Quick-Dry", "Trail"),
             ("Yoga Mat", "Water Bottle", "Running Shoes", "Tent", "Backpack", "Bike Helmet",
              "Dumbbell Set", "Climbing Rope"),
             ("Summit", "Stride", "Ironbark", "Tidewater"),
             ("outdoor", "fitness", "camping", "running", "lightweight")),
    Category("clothing", 640, (7.0, 380.0), (0, 700),
             ("Merino", "Organic Cotton", "Linen", "Waterproof", "Fleece", "Denim"),
             ("T-Shirt", "Hoodie", "Jacket", "Socks", "Beanie", "Trousers", "Scarf", "Raincoat"),
             ("Loomworks", "Northwind", "Fable & Fern"),
             ("organic", "unisex", "winter", "summer", "eco-friendly", "machine-washable")),
    Category("office", 420, (1.5, 900.0), (0, 800),
             ("Ergonomic", "Recycled", "Standing", "Minimalist", "Magnetic"),
             ("Desk", "Chair", "Notebook", "Pen Set", "Desk Lamp", "Whiteboard", "Monitor Arm",
              "Label Maker"),
             ("Deskhaus", "Papertrail", "Workwell"),
             ("home-office", "recycled", "ergonomic", "gift-idea")),
    Category("software", 300, (0.0, 499.0), (0, 100000),
             ("Cloud", "Async", "Open", "Secure", "Lightweight", "Enterprise"),
             ("Database Toolkit", "Web Framework", "Task Queue", "Monitoring Agent", "API Gateway",
              "Backup Tool", "CLI", "Query Builder"),
             ("Pyforge", "Elephant Labs", "Quillsoft", "Nullpointer"),
             ("python", "async", "open-source", "networking", "postgresql", "cli", "saas")),
    Category("beauty", 360, (3.0, 160.0), (0, 900),
             ("Hydrating", "Vegan", "Fragrance-Free", "Mineral", "Overnight"),
             ("Face Cream", "Lip Balm", "Shampoo", "Sunscreen", "Serum", "Soap Bar", "Hand Lotion"),
             ("Petal & Stone", "Clearwater", "Dune"),
             ("vegan", "cruelty-free", "sensitive-skin", "spf-30", "gift-idea")),
    Category("collectibles", 14, (45.0, 2400.0), (1, 25),
             ("Signed", "First-Edition", "Limited", "Antique", "Numbered"),
             ("Vinyl Record", "Poster", "Coin", "Comic", "Figurine"),
             ("Attic Finds",),
             ("collector's item", "limited-edition", '12" vinyl', "rare")),
    Category("vintage-cameras", 9, (60.0, 1500.0), (0, 9),
             ("Rangefinder", "Twin-Lens", "Folding", "Medium-Format"),
             ("Camera", "Lens", "Light Meter"),
             ("Darkroom Co",),
             ("film", "35mm", "refurbished", "rare")),
)

LICENCES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0", "Proprietary")
COLOURS = ("black", "white", "graphite", "navy", "forest green", "terracotta", "sand", "red")
AUTHORS = ("A. Okafor", "M. Lindqvist", "R. Tanaka", "S. Moreau", "J. Alvarez", "K. Novak", "P. Singh")
SHARED_TAGS = ("bestseller", "new-arrival", "sale", "staff-pick")


def _metadata(rng: random.Random, category: Category, brand: str) -> dict:
    meta: dict = {
        "brand": brand,
        "rating": round(rng.uniform(2.5, 5.0), 1),
        "reviews": rng.randint(0, 4000),
    }
    if category.name in ("electronics", "kitchen", "garden", "sports", "office"):
        meta["warranty_years"] = rng.choice((1, 1, 2, 2, 3, 5))
        meta["dimensions_cm"] = {
            "w": round(rng.uniform(2, 120), 1),
            "h": round(rng.uniform(1, 90), 1),
            "d": round(rng.uniform(1, 60), 1),
        }
        meta["weight_kg"] = round(rng.uniform(0.05, 25), 2)
    if category.name in ("electronics", "clothing", "office", "sports", "toys"):
        meta["color"] = rng.choice(COLOURS)
    if category.name == "software":
        meta["license"] = rng.choice(LICENCES)
        meta["version"] = f"{rng.randint(0, 6)}.{rng.randint(0, 20)}"
        if rng.random() < 0.6:
            meta["python_requires"] = rng.choice((">=3.9", ">=3.10", ">=3.11", ">=3.12"))
    if category.name == "books":
        meta["author"] = rng.choice(AUTHORS)
        meta["pages"] = rng.randint(90, 1100)
        meta["language"] = rng.choice(("en", "en", "en", "de", "fr", "es"))
        meta["isbn"] = "978" + "".join(str(rng.randint(0, 9)) for _ in range(10))
    if category.name == "clothing":
        meta["sizes"] = sorted(rng.sample(["XS", "S", "M", "L", "XL", "XXL"], rng.randint(2, 5)))
        meta["material"] = rng.choice(("cotton", "wool", "linen", "polyester", "hemp"))
    if rng.random() < 0.25:
        meta["eco"] = True
    return meta


def _price(rng: random.Random, low: float, high: float) -> str:
    # Log-uniform: many cheap items, a long tail of expensive ones, like a real shop.
    value = low + (high - low) * (rng.random() ** 2.2)
    cents = int(round(value * 100))
    if rng.random() < 0.35:
        cents = cents - cents % 100 + 99  # psychological pricing: 19.99
    return f"{max(cents, 0) / 100:.2f}"


def generate_rows(seed: int = SEED) -> list[list[str]]:
    rng = random.Random(seed)
    rows: list[list[str]] = []
    seen_names: set[str] = set()
    span_s = int((LAST_DAY - FIRST_DAY).total_seconds())
    for category in CATEGORIES:
        for _ in range(category.count):
            brand = rng.choice(category.brands)
            base = f"{brand} {rng.choice(category.adjectives)} {rng.choice(category.nouns)}"
            name = base
            model = 2
            while name in seen_names:
                name = f"{base} {rng.choice(('Mk', 'Series', 'Gen'))} {model}"
                model += 1
            seen_names.add(name)
            tags = rng.sample(list(category.tags), rng.randint(1, min(4, len(category.tags))))
            if rng.random() < 0.15:
                tags.append(rng.choice(SHARED_TAGS))
            low_stock, high_stock = category.stock_range
            stock = rng.randint(low_stock, high_stock) if rng.random() > 0.04 else 0
            created = FIRST_DAY + timedelta(seconds=rng.randrange(span_s))
            remaining_s = max(1, int((LAST_DAY - created).total_seconds()))
            updated = created + timedelta(seconds=rng.randrange(remaining_s))
            rows.append([
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name,
                _price(rng, *category.price_range),
                category.name,
                pg_array_literal(tags),
                json.dumps(_metadata(rng, category, brand), sort_keys=True),
                str(stock),
                created.isoformat(),
                updated.isoformat(),
            ])
    return rows


def render_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "data" / "products.csv"
    target.write_text(render_csv(generate_rows()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
