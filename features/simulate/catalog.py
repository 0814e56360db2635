"""The product catalogue: products with a category, a style, a price and a hidden size offset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.config import SimCatalogParams


@dataclass(frozen=True)
class Catalog:
    """Products in category order; ``offset`` is the hidden size offset (+ runs large)."""

    categories: tuple[str, ...]
    product_id: np.ndarray  # str
    category: np.ndarray  # index into categories
    style: np.ndarray  # str
    style_offset: np.ndarray
    offset: np.ndarray
    price: np.ndarray
    popularity: np.ndarray  # sampling weight within its category
    multipack_share: np.ndarray  # per category
    first: np.ndarray  # first product index of each category
    cum_popularity: list[np.ndarray]  # per category, cumulative and normalized

    @property
    def mean_line_value(self) -> np.ndarray:
        """Expected ``price * quantity`` of a line, per category (popularity weighted)."""
        out = np.zeros(len(self.categories))
        for k in range(len(self.categories)):
            m = self.category == k
            w = self.popularity[m] / self.popularity[m].sum()
            qty = 1 + 1.5 * self.multipack_share[k]  # multipacks hold 2 or 3
            out[k] = float(w @ self.price[m]) * qty
        return out

    def sample(self, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A product index per requested category index, drawn by popularity."""
        # Category k's cumulative popularity lies in (k, k + 1]: one search serves them all.
        stacked = np.concatenate([k + c for k, c in enumerate(self.cum_popularity)])
        pick = np.searchsorted(stacked, category + rng.random(len(category)), side="right")
        return np.minimum(pick, len(stacked) - 1)

    def quantity(self, product: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Units per line: 1, or 2-3 for a multipack."""
        multi = rng.random(len(product)) < self.multipack_share[self.category[product]]
        return np.where(multi, rng.integers(2, 4, len(product)), 1).astype(np.int64)


def build_catalog(params: SimCatalogParams, rng: np.random.Generator) -> Catalog:
    """Products per category with styles, ``.99`` prices, popularity and size offsets."""
    names = tuple(params.categories)
    ids, cats, styles, s_off, price, share, first, cum = [], [], [], [], [], [], [], []
    n = 0
    for k, (name, cat) in enumerate(params.categories.items()):
        first.append(n)
        style_off = {s: rng.normal(0.0, params.style_offset_sd) for s in cat.styles}
        st = np.asarray(cat.styles)[rng.integers(0, len(cat.styles), cat.products)]
        ids += [f"P{name[:2].upper()}{i + 1:04d}" for i in range(cat.products)]
        cats.append(np.full(cat.products, k))
        styles.append(st)
        s_off.append(np.array([style_off[s] for s in st]))
        price.append(np.round(rng.uniform(cat.price_min, cat.price_max, cat.products)) - 0.01)
        share.append(cat.multipack_share)
        n += cat.products
    category = np.concatenate(cats)
    style_offset = np.concatenate(s_off)
    offset = style_offset + rng.normal(0.0, params.product_offset_sd, n)
    popularity = rng.gamma(params.popularity_shape, 1.0, n)
    for k in range(len(names)):
        w = popularity[category == k]
        cum.append(np.cumsum(w) / w.sum())
    return Catalog(
        categories=names,
        product_id=np.asarray(ids),
        category=category,
        style=np.concatenate(styles),
        style_offset=style_offset,
        offset=offset,
        price=np.concatenate(price),
        popularity=popularity,
        multipack_share=np.asarray(share),
        first=np.asarray(first),
        cum_popularity=cum,
    )
