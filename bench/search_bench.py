"""Search benchmark: indexing speed and query latency of the embedded (tantivy) backend.

Usage: python bench/search_bench.py [--pages 100000] [--repeat 5] [--keep DIR]

Corpus: the Vietnamese Wikipedia articles in /work/shared/data/vi-text/viwiki/ are cut into
sentences (at . ! ? and line ends, headings dropped); all sentences are shuffled with a fixed
seed (``random.Random(SEED)``) and dealt out in a cycle, reshuffled on each pass, to pages of
about 1,800 characters (a printed page). Pages are grouped into items: 30 % short serials of
4-16 pages, 70 % books of 40-300 pages (about 120 pages per item on average), each with a
title from an article name, one of a few Vietnamese authors, a year 1900-2020, a collection,
a type, languages and an access level (open, readers, on-site).

Indexing: pages per second (wall clock, and per CPU second of this process, writer threads
included), against bare tantivy indexing the first 20,000 of the same pages into one text
field in the same run.

Queries: a fixed mixed set — folded and accented words, phrases, rare words (corpus
frequency 3-10), very common words, fielded (title:, creator:, year:) and faceted — each run
``--repeat`` times through ``TantivySearch.search`` as a signed-in reader (access filter,
facets, snippets, matching pages: the whole results page). The baseline is *bare tantivy on
the same pages index, in the same run*: the query's folded words parsed by tantivy's own
parser over the folded text field (all words required), top 10 pages, with their stored
documents — what a page-level search with no access, grouping, facets or snippets costs.
Figures are p50/p95 in milliseconds, wall clock and process CPU time (the machine is shared:
CPU time is not inflated by other processes), and the ratio of ours to bare at p50 and p95.
The PostgreSQL backend runs the same pages and queries in a scratch database (``--postgres``,
on by default against the local server), after a VACUUM ANALYZE; its goal is an absolute p95
under 100 ms. Its baseline is PostgreSQL full text as usually written, on the same page table
in the same run: the top 10 pages by ts_rank among those holding the folded words.
Results go to bench/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import tantivy

from repository.search.analysis import tokenize
from repository.search.backend import SearchRequest
from repository.search.documents import ItemDocument, PageDocument
from repository.search.filters import AccessFilter
from repository.search.query import Phrase, Term, parse_query
from repository.search.tantivy_backend import TantivySearch

SEED = 20240601
CORPUS = Path("/work/shared/data/vi-text/viwiki")
RESULTS = Path(__file__).resolve().parent / "results" / "search.json"
PAGE_CHARS = 1_800
AUTHORS = ("Nguyễn Du", "Hồ Xuân Hương", "Phan Bội Châu", "Nguyễn Trãi", "Trần Văn Giàu",
           "Đào Duy Anh", "Lê Quý Đôn", "Ngô Tất Tố")
COLLECTIONS = ("dia-chi", "bao-chi", "van-hoc", "lich-su", "han-nom", "ban-do")
TYPES = ("sách", "báo", "tạp chí", "bản đồ")
ACCESS = {"open": {"any"}, "readers": {"readers"}, "onsite": {"onsite"}}
READER = AccessFilter(frozenset({"any", "readers"}))
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def load_sentences() -> tuple[list[str], list[str]]:
    sentences, titles = [], []
    for path in sorted(CORPUS.glob("*.txt")):
        titles.append(path.stem)
        for sentence in SENTENCE_END.split(path.read_text(encoding="utf-8")):
            sentence = sentence.strip()
            if len(sentence) > 20 and not sentence.startswith("=="):
                sentences.append(sentence)
    return sentences, titles


def dealt_sentences(sentences: list[str], rng: random.Random) -> Iterator[str]:
    deck = list(sentences)
    while True:
        rng.shuffle(deck)
        yield from deck


def make_page_texts(count: int, sentences: list[str], rng: random.Random) -> Iterator[str]:
    deck = dealt_sentences(sentences, rng)
    for _ in range(count):
        parts, size = [], 0
        while size < PAGE_CHARS:
            sentence = next(deck)
            parts.append(sentence)
            size += len(sentence) + 1
        yield " ".join(parts)


def make_items(pages: int, titles: list[str], rng: random.Random) -> list[tuple[ItemDocument,
                                                                                 int]]:
    items, remaining, item_id = [], pages, 0
    while remaining > 0:
        item_id += 1
        size = rng.randint(4, 16) if rng.random() < 0.3 else rng.randint(40, 300)
        size = min(size, remaining)
        remaining -= size
        level = rng.choice(list(ACCESS))
        items.append((ItemDocument(
            item_id=item_id, title=f"{rng.choice(titles).title()} tập {item_id}",
            creators=(rng.choice(AUTHORS),), subjects=(rng.choice(titles),),
            description=f"Tư liệu số {item_id} về {rng.choice(titles)}",
            year=rng.randint(1900, 2020), collection=rng.choice(COLLECTIONS),
            type=rng.choice(TYPES), languages=("vi",) if rng.random() < 0.8 else ("vi", "fr"),
            access=level, metadata_principals=frozenset({"any"}),
            view_principals=frozenset(ACCESS[level])), size))
    return items


def entries(items, texts: Iterator[str]) -> Iterator[tuple[ItemDocument, list[PageDocument]]]:
    for item, size in items:
        yield item, [item.page(number, next(texts)) for number in range(1, size + 1)]


def rare_words(sentences: list[str], rng: random.Random, count: int) -> list[str]:
    frequencies = Counter(word for sentence in sentences for word in tokenize(sentence))
    rare = sorted(word for word, n in frequencies.items() if 3 <= n <= 10 and word.isalpha())
    return rng.sample(rare, count)


def query_set(sentences: list[str], rng: random.Random) -> list[tuple[str, dict]]:
    plain = ["nguyen du", "viet nam", "dia chi ha tinh", "duong lam", "thanh pho",
             "chien tranh the gioi", "Việt Nam", "Hà Nội", "thành phố lớn", "Nguyễn Ái Quốc",
             "đồng bằng sông Cửu Long", "lịch sử"]
    phrases = ['"dong bang song cuu long"', '"chiến tranh thế giới"', '"thanh pho ho chi minh"',
               '"năm 1941"']
    common = ["là", "của", "và có", "trong những năm"]
    fielded = ["title:an giang", "creator:nguyen du", "year:1930..1945 viet nam",
               "subject:bandung", "creator:\"phan boi chau\" lich su", "nam -bac"]
    queries = [(text, {}) for text in plain + phrases + common + fielded]
    queries += [(word, {}) for word in rare_words(sentences, rng, 8)]
    queries += [("viet nam", {"collection": frozenset({"dia-chi"})}),
                ("lịch sử", {"type": frozenset({"sách"}), "decade": frozenset({"1930"})}),
                ("thanh pho", {"language": frozenset({"fr"})})]
    return queries


def bare_text(query: str) -> str:
    """The query's words, folded, in tantivy's syntax: phrases kept, fields and years dropped."""
    parts = []
    for group in parse_query(query).required:
        for atom in group:
            if isinstance(atom, Term):
                parts.append(atom.word.folded)
            elif isinstance(atom, Phrase):
                parts.append('"' + " ".join(word.folded for word in atom.words) + '"')
    return " ".join(parts) or "*"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bare_indexing(texts: list[str]) -> dict:
    """Pages/s of bare tantivy: one text field (default tokenizer), no items, no access."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=True)
    directory = tempfile.mkdtemp(prefix="khoso-search-bare-")
    index = tantivy.Index(builder.build(), path=directory)
    wall, cpu = time.perf_counter(), time.process_time()
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    for text in texts:
        writer.add_document(tantivy.Document(text=text))
    writer.commit()
    writer.wait_merging_threads()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    shutil.rmtree(directory, ignore_errors=True)
    return {"bare_pages": len(texts), "bare_pages_per_second": round(len(texts) / wall),
            "bare_pages_per_cpu_second": round(len(texts) / cpu)}


def bare_search(pages, text: str) -> None:
    searcher = pages.searcher()
    parsed = pages.parse_query(bare_text(text), ["text_f"], conjunction_by_default=True)
    for _, address in searcher.search(parsed, 10).hits:
        searcher.doc(address)


def time_queries(backend: TantivySearch, queries, repeat: int) -> dict[str, list[float]]:
    """Milliseconds per query, ours and bare interleaved: wall clock and this process's CPU
    time (steadier on a shared machine: other processes' load does not count)."""
    timings: dict[str, list[float]] = {"ours": [], "bare": [], "ours_cpu": [], "bare_cpu": []}
    runs = {"ours": lambda text, filters: backend.search(SearchRequest(text, filters=filters),
                                                         READER),
            "bare": lambda text, filters: bare_search(backend.pages.index, text)}
    for _ in range(repeat):
        for text, filters in queries:
            for name, run in runs.items():
                wall, cpu = time.perf_counter(), time.process_time()
                run(text, filters)
                timings[name + "_cpu"].append((time.process_time() - cpu) * 1000)
                timings[name].append((time.perf_counter() - wall) * 1000)
    return timings


def summary(timings: dict[str, list[float]]) -> dict:
    figures = {}
    for clock in ("", "_cpu"):
        for name in ("ours", "bare"):
            values = timings[name + clock]
            figures[f"{name}{clock}_p50_ms"] = percentile(values, 0.5)
            figures[f"{name}{clock}_p95_ms"] = percentile(values, 0.95)
            figures[f"{name}{clock}_mean_ms"] = statistics.fmean(values)
        for level in ("p50", "p95"):
            figures[f"ratio{clock}_{level}"] = (figures[f"ours{clock}_{level}_ms"]
                                                / figures[f"bare{clock}_{level}_ms"])
    return {name: round(value, 3) for name, value in figures.items()}


def build(backend: TantivySearch, items, pages: int, sentences: list[str]) -> dict:
    """Index the collection; its speed, and bare tantivy's on the first 20,000 pages."""
    backend.clear()
    texts = make_page_texts(pages, sentences, random.Random(SEED + 1))
    wall, cpu = time.perf_counter(), time.process_time()
    backend.index_many(entries(items, texts))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bare_texts = list(make_page_texts(min(pages, 20_000), sentences, random.Random(SEED + 1)))
    return {"index_seconds": round(wall, 1), "pages_per_second": round(pages / wall),
            "pages_per_cpu_second": round(pages / cpu), **bare_indexing(bare_texts)}


def bare_postgres(backend, text: str) -> None:
    """PostgreSQL full text as it is usually written: the top 10 pages by ts_rank of those
    holding the query's folded words (phrases kept), with their text; no access, no items."""
    import sqlalchemy as sa

    from repository.search.postgres_query import quoted
    parts = []
    for group in parse_query(text).required:
        for atom in group:
            if isinstance(atom, Term):
                parts.append(quoted(atom.word.folded))
            elif isinstance(atom, Phrase):
                parts.append("(" + " <-> ".join(quoted(word.folded) for word in atom.words) + ")")
    if not parts:
        return
    with backend.engine.connect() as connection:
        connection.execute(sa.text(  # the schema name is validated by PostgresSearch
            f"SELECT item_id, number, text FROM {backend.schema}.search_pages "  # noqa: S608
            "WHERE folded @@ CAST(:q AS tsquery) "
            "ORDER BY ts_rank(folded, CAST(:q AS tsquery)) DESC LIMIT 10"),
            {"q": " & ".join(parts)}).all()


def postgres_run(url: str, items, pages: int, sentences: list[str], queries,
                 repeat: int) -> dict:
    """The shared backend on the same pages and queries, in a scratch database of its own."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from repository.search.postgres_backend import PostgresSearch
    name = f"khoso_search_bench_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
    backend = PostgresSearch(scratch)
    try:
        texts = make_page_texts(pages, sentences, random.Random(SEED + 1))
        wall = time.perf_counter()
        backend.index_many(entries(items, texts))
        wall = time.perf_counter() - wall
        with backend.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would after a load
        runs = {"ours": lambda text, filters: backend.search(
                    SearchRequest(text, filters=filters), READER),
                "bare": lambda text, filters: bare_postgres(backend, text)}
        for text, filters in queries:
            for run in runs.values():
                run(text, filters)
        values: dict[str, list[float]] = {"ours": [], "bare": []}
        for _ in range(repeat):
            for text, filters in queries:
                for side, run in runs.items():
                    started = time.perf_counter()
                    run(text, filters)
                    values[side].append((time.perf_counter() - started) * 1000)
        figures = {f"postgres_{side}_{level}_ms": round(percentile(values[side], fraction), 1)
                   for side in values for level, fraction in (("p50", 0.5), ("p95", 0.95))}
        return {"postgres_pages_per_second": round(pages / wall),
                "postgres_p50_ms": figures["postgres_ours_p50_ms"],
                "postgres_p95_ms": figures["postgres_ours_p95_ms"], **figures,
                "postgres_ratio_p50": round(figures["postgres_ours_p50_ms"]
                                            / figures["postgres_bare_p50_ms"], 3),
                "postgres_ratio_p95": round(figures["postgres_ours_p95_ms"]
                                            / figures["postgres_bare_p95_ms"], 3)}
    finally:
        backend.close()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="build the index in this directory and keep it")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: query the index already there, skip indexing")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get(
        "KHOSO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="also run the PostgreSQL backend in a scratch database ('' to skip)")
    arguments = parser.parse_args()
    rng = random.Random(SEED)
    sentences, titles = load_sentences()
    items = make_items(arguments.pages, titles, rng)
    directory = Path(arguments.keep or tempfile.mkdtemp(prefix="khoso-search-bench-"))
    backend = TantivySearch(directory)
    indexing = ({} if arguments.keep and arguments.reuse
                else build(backend, items, arguments.pages, sentences))
    queries = query_set(sentences, rng)
    time_queries(backend, queries, 1)  # warm the page cache and the searchers
    timings = time_queries(backend, queries, arguments.repeat)
    result = {"pages": arguments.pages, "items": len(items), "queries": len(queries),
              "repeat": arguments.repeat, **indexing,
              "index_megabytes": round(sum(path.stat().st_size for path in
                                           directory.rglob("*") if path.is_file()) / 1e6, 1),
              "load_average": [round(load, 2) for load in os.getloadavg()],
              **summary(timings), "goals": {"ours_p95_ms": 20, "ratio_p95": 2.0,
                                            "postgres_p95_ms": 100}}
    if arguments.postgres:
        result.update(postgres_run(arguments.postgres, items, arguments.pages, sentences,
                                   queries, arguments.repeat))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not arguments.keep:
        backend.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
