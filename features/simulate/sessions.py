"""Sessions and their events: page paths from a Markov chain over the shop's pages.

Three kinds of session, all while the customer is alive:

- the sign-up session (``signup`` event first), at sign-up;
- a purchase session per order: a short browse prefix, the size guide when the customer
  used it, a product page and ``add_to_cart`` per line (up to three), the membership page
  when joining, then ``checkout`` and ``purchase``. The order's timestamp is the
  ``purchase`` event's; the session starts at the order process's event time;
- browse sessions, a seasonal Poisson process at the customer's browse rate, walking the
  chain until it exits. They may reach ``cart`` and ``checkout`` and leave (abandonment).

Events are laid out session by session in blocks, so their positions (``seq``) and
timestamps are computed without sorting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.config import SimSessionParams

PAGES = (
    "home",
    "search",
    "category",
    "product",
    "size_guide",
    "pricing",
    "membership",
    "cart",
    "checkout",
    "returns",
    "support",
    "account",
)
EVENT_TYPES = ("page_view", "search", "add_to_cart", "checkout", "purchase", "login", "signup")
PAGE = {p: i for i, p in enumerate(PAGES)}
ET = {e: i for i, e in enumerate(EVENT_TYPES)}
EXIT = len(PAGES)
PREFIX_MAX = 6
LINES_SHOWN = 3


def transition_matrix(params: SimSessionParams, *, browse: bool) -> np.ndarray:
    """Row-stochastic (pages + exit) matrix. The purchase prefix never enters cart/checkout."""
    t = np.zeros((EXIT + 1, EXIT + 1))
    for page, row in params.transitions.items():
        for nxt, w in row.items():
            t[PAGE[page], EXIT if nxt == "exit" else PAGE[nxt]] = w
    if not browse:
        for blocked in ("cart", "checkout"):
            t[:, EXIT] += t[:, PAGE[blocked]]
            t[:, PAGE[blocked]] = 0.0
    t[EXIT, EXIT] = 1.0
    empty = t.sum(axis=1) == 0
    t[empty, EXIT] = 1.0
    return t / t.sum(axis=1, keepdims=True)


def check_pages(params: SimSessionParams) -> None:
    """Every page named in the chain must be a known page (or ``exit``)."""
    from features.errors import ConfigError, unknown_name_message

    names = list(params.start) + list(params.transitions)
    names += [n for row in params.transitions.values() for n in row]
    for name in names:
        if name != "exit" and name not in PAGE:
            raise ConfigError(
                "simulate.sessions: " + unknown_name_message("page", name, [*PAGES, "exit"])
            )


_CHUNK = 1 << 22  # rows per chunk of the large per-event temporaries
QUANTA = 1 << 16  # transition probabilities are resolved to 1 / 65,536


def lookup_table(matrix: np.ndarray) -> np.ndarray:
    """Per state, ``QUANTA`` next states such that a uniform pick follows the row's law.

    One integer draw and one gather per step is much faster than comparing cumulative rows.
    """
    edges = np.cumsum(matrix, axis=1)
    u = (np.arange(QUANTA) + 0.5) / QUANTA
    return (
        np.stack([np.searchsorted(row, u, side="right") for row in edges])
        .clip(0, matrix.shape[1] - 1)
        .astype(np.int8)
    )


def walk(
    n: int, start: np.ndarray, matrix: np.ndarray, max_len: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk ``n`` chains. Returns ``(session, step, page, length)``; every walk has >= 1 page."""
    table = lookup_table(matrix)
    state = np.searchsorted(np.cumsum(start), rng.random(n), side="right").clip(0, EXIT - 1)
    state = state.astype(np.int8)
    sess = np.arange(n, dtype=np.int32)
    out_s, out_k, out_p = [sess], [np.zeros(n, dtype=np.int16)], [state]
    length = np.ones(n, dtype=np.int16)
    for step in range(1, max_len):
        nxt = table[state, rng.integers(0, QUANTA, len(sess), dtype=np.int32)]
        go = nxt < EXIT
        sess, state = sess[go], nxt[go]
        if not len(sess):
            break
        out_s.append(sess)
        out_k.append(np.full(len(sess), step, dtype=np.int16))
        out_p.append(state)
        length[sess] += 1
    return np.concatenate(out_s), np.concatenate(out_k), np.concatenate(out_p), length


@dataclass
class Events:
    """Event rows (flat arrays) and per-session attributes."""

    session: np.ndarray  # session number (sorted by customer, then start)
    seq: np.ndarray  # 1-based position within the session
    ts_us: np.ndarray  # int64 microseconds since the Unix epoch
    event_type: np.ndarray  # index into EVENT_TYPES
    page: np.ndarray  # index into PAGES
    product: np.ndarray  # catalogue index, -1 for none
    session_customer: np.ndarray
    session_source: np.ndarray  # index into the source vocabulary
    session_app: np.ndarray  # bool
    session_order: np.ndarray  # order row of a purchase session, -1 otherwise
    session_end_us: np.ndarray  # timestamp of the session's last event
    sources: list[str]  # the traffic-source vocabulary session_source indexes

    @property
    def customer(self) -> np.ndarray:
        return self.session_customer[self.session]


def build_events(
    params: SimSessionParams,
    *,
    customer: np.ndarray,
    start_us: np.ndarray,
    signup: np.ndarray,
    login: np.ndarray,
    order: np.ndarray,
    guide: np.ndarray,
    joined: np.ndarray,
    products: np.ndarray,
    source: np.ndarray,
    sources: list[str],
    app: np.ndarray,
    random_product,
    rng: np.random.Generator,
) -> Events:
    """Lay out every session's events.

    Per session: ``customer``, ``start_us``, ``signup``/``login`` (a first event), ``order``
    (order row or -1), ``guide``/``joined`` (purchase sessions), ``products`` (up to
    ``LINES_SHOWN`` product indices per session, -1 padded; the first is the session's focus
    product), ``source`` (index into ``sources``) and ``app``. ``random_product(n)`` draws products by popularity.
    """
    n = len(customer)
    buy = order >= 0
    start = np.array([params.start.get(p, 0.0) for p in PAGES])
    start = start / start.sum()
    n_lines = ((products >= 0).sum(axis=1) * buy).astype(np.int32)
    # Blocks in session order: head (signup/login), chain, size guide, product + cart per
    # line, membership, checkout + purchase.
    blocks = np.zeros((n, 6), dtype=np.int32)
    blocks[:, 0] = signup | login
    blocks[:, 2] = buy & guide
    blocks[:, 3] = 2 * n_lines
    blocks[:, 4] = buy & joined
    blocks[:, 5] = 2 * buy
    chain: list[tuple[np.ndarray, ...]] = []
    for kind, browse, cap in ((True, False, PREFIX_MAX), (False, True, params.max_pages)):
        idx = np.flatnonzero(buy == kind).astype(np.int32)
        s, k, p, length = walk(len(idx), start, transition_matrix(params, browse=browse), cap, rng)
        blocks[idx, 1] = length
        chain.append((idx[s], k, p))
        del s
    block_start = np.cumsum(blocks, axis=1, dtype=np.int32) - blocks
    sizes = blocks.sum(axis=1, dtype=np.int64)
    del blocks
    first_event = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    total = int(sizes.sum())

    etype = np.empty(total, dtype=np.int8)
    page = np.empty(total, dtype=np.int8)
    product = np.full(total, -1, dtype=np.int32)

    def put(sess, block, offset, et, pg, prod=None):
        # Chunked so the int64 position temporaries stay small at 50M events.
        for a in range(0, len(sess), _CHUNK):
            sl = slice(a, a + _CHUNK)
            sc = sess[sl]
            off = offset if np.isscalar(offset) else offset[sl]
            at = first_event[sc] + block_start[sc, block] + off
            etype[at] = et if np.isscalar(et) else et[sl]
            page[at] = pg if np.isscalar(pg) else pg[sl]
            if prod is not None:
                product[at] = prod[sl]

    head = np.flatnonzero(signup | login)
    put(head, 0, 0, np.where(signup[head], ET["signup"], ET["login"]), PAGE["account"])
    while chain:
        sess, k, p = chain.pop()
        et = np.full(len(p), ET["page_view"], dtype=np.int8)
        et[p == PAGE["search"]] = ET["search"]
        et[p == PAGE["cart"]] = ET["add_to_cart"]
        et[p == PAGE["checkout"]] = ET["checkout"]
        # Product pages show the session's focus product half the time, else any product;
        # the cart holds the focus product.
        prod = np.full(len(p), -1, dtype=np.int32)
        on_product = np.flatnonzero(p == PAGE["product"])
        focus = products[sess[on_product], 0]
        prod[on_product] = np.where(
            rng.random(len(on_product)) < 0.5, focus, random_product(len(on_product))
        )
        on_cart = np.flatnonzero(p == PAGE["cart"])
        prod[on_cart] = products[sess[on_cart], 0]
        put(sess, 1, k, et, p, prod)
        del sess, k, p, et, prod
    g = np.flatnonzero(buy & guide)
    put(g, 2, 0, ET["page_view"], PAGE["size_guide"])
    for j in range(LINES_SHOWN):
        s = np.flatnonzero(n_lines > j)
        put(s, 3, 2 * j, ET["page_view"], PAGE["product"], products[s, j])
        put(s, 3, 2 * j + 1, ET["add_to_cart"], PAGE["cart"], products[s, j])
    m = np.flatnonzero(buy & joined)
    put(m, 4, 0, ET["page_view"], PAGE["membership"])
    b = np.flatnonzero(buy)
    put(b, 5, 0, ET["checkout"], PAGE["checkout"])
    put(b, 5, 1, ET["purchase"], PAGE["checkout"])

    session = np.repeat(np.arange(n, dtype=np.int32), sizes)
    seq = np.empty(total, dtype=np.int64)
    ts = np.empty(total, dtype=np.int64)
    end_us = np.empty(n, dtype=np.int64)
    gap_us = params.event_gap_seconds * 1e6
    # Session chunks own contiguous event ranges: seq and timestamps chunk by chunk.
    for a in range(0, n, _CHUNK // 8):
        b_ = min(n, a + _CHUNK // 8)
        lo, hi = int(first_event[a]), int(first_event[b_ - 1] + sizes[b_ - 1])
        local = session[lo:hi]
        first = first_event[local] - lo
        seq[lo:hi] = np.arange(hi - lo) - first + 1
        gap = rng.standard_exponential(hi - lo) * gap_us
        gap[first_event[a:b_] - lo] = 0.0
        elapsed = np.cumsum(gap)
        ts[lo:hi] = start_us[local] + np.round(elapsed - elapsed[first]).astype(np.int64)
        end_us[a:b_] = ts[lo:hi][first_event[a:b_] - lo + sizes[a:b_] - 1]
    return Events(
        session=session,
        seq=seq,
        ts_us=ts,
        event_type=etype,
        page=page,
        product=product,
        session_customer=customer.astype(np.int32),
        session_source=source,
        session_app=app,
        session_order=order,
        session_end_us=end_us,
        sources=sources,
    )
