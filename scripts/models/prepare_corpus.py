#!/usr/bin/env python3
"""Build the training corpus for Sluice's tiny shipped models from Debian package files.

Reproducible: reads only files installed by these Debian packages (no network) and writes
models/training/corpus.txt (one document per line, ASCII, single spaces) plus
models/training/corpus.sources.json (per-source file, license, document and character counts).

    apt-get install -y sword-text-web jargon-text dict-devil
    /usr/bin/python3 scripts/models/prepare_corpus.py

Sources (all public domain; see each package's /usr/share/doc/<pkg>/copyright):
  sword-text-web : World English Bible (SWORD module engWEB2015eb, zText/OSIS) - public domain
  jargon-text    : The Jargon File 4.4.7 (Eric S. Raymond et al.)             - public domain
  dict-devil     : The Devil's Dictionary, Ambrose Bierce (1911)              - public domain
"""
import argparse
import gzip
import json
import os
import random
import re
import struct
import sys
import unicodedata
import zlib

PACKAGES = ["sword-text-web", "jargon-text", "dict-devil"]
WEB_DIR = "/usr/share/sword/modules/texts/ztext/engWEB2015eb"
JARGON = "/usr/share/doc/jargon-text/jargon.txt.gz"
DEVIL = "/usr/share/dictd/devil.dict.dz"  # dictzip is gzip-compatible

SOURCES = {
    "web": {
        "package": "sword-text-web",
        "files": [f"{WEB_DIR}/{t}.{e}" for t in ("ot", "nt") for e in ("bzs", "bzv", "bzz")],
        "title": "World English Bible (engWEB2015eb)",
        "license": "public domain (see /usr/share/doc/sword-text-web/copyright)",
    },
    "jargon": {
        "package": "jargon-text",
        "files": [JARGON],
        "title": "The Jargon File 4.4.7",
        "license": "public domain (see /usr/share/doc/jargon-text/copyright)",
    },
    "devil": {
        "package": "dict-devil",
        "files": [DEVIL],
        "title": "The Devil's Dictionary, Ambrose Bierce",
        "license": "public domain, copyright expired (see /usr/share/doc/dict-devil/copyright)",
    },
}

ASCII_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2014": " - ", "\u2013": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u00b7": "", "\u2022": "", "\u2192": "->",
    "\u00e6": "ae", "\u00c6": "Ae", "\u0153": "oe", "\u0152": "Oe",
}


def to_ascii(s):
    s = "".join(ASCII_MAP.get(c, c) for c in s)
    # strip accents (e.g. "na\u00efve" -> "naive"); anything still non-ASCII rejects the document
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s


def clean(s):
    s = to_ascii(s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r" +([,.;:!?])", r"\1", s)
    s = s.replace(" - -", " -")
    return s


def ok(doc, min_words=6):
    if not doc or not doc.isascii() or len(doc.split()) < min_words:
        return False
    letters = sum(c.isalpha() for c in doc)
    return letters >= 0.6 * len(doc)


# --- World English Bible: SWORD zText module, OSIS markup -------------------------------
def web_docs():
    docs = []
    for testament in ("ot", "nt"):
        base = os.path.join(WEB_DIR, testament)
        bzs = open(base + ".bzs", "rb").read()
        bzz = open(base + ".bzz", "rb").read()
        bzv = open(base + ".bzv", "rb").read()
        blocks = []
        for i in range(0, len(bzs), 12):
            off, size, _ = struct.unpack_from("<III", bzs, i)
            blocks.append(zlib.decompress(bzz[off:off + size]))
        markup = []
        prev_block = None
        for i in range(0, len(bzv), 10):
            b, off, size = struct.unpack_from("<IIH", bzv, i)
            if size == 0:
                continue
            if prev_block is not None and b != prev_block:
                markup.append("<BOOKBREAK/>")
            prev_block = b
            markup.append(blocks[b][off:off + size].decode("utf-8") + " ")
        text = "".join(markup)
        # footnotes, headings, alternative readings: drop with their content
        text = re.sub(r"<note\b.*?</note>", " ", text, flags=re.S)
        text = re.sub(r"<title\b.*?</title>", " ", text, flags=re.S)
        # paragraph / chapter / book starts become document breaks
        text = re.sub(r'<div [^>]*sID="[^"]*" type="x-p"/>', "\n", text)
        text = re.sub(r"<chapter [^>]*sID=[^>]*/>", "\n", text)
        text = text.replace("<BOOKBREAK/>", "\n")
        text = re.sub(r"<lb\b[^>]*/>|<l\b[^>]*>|</l>", " ", text)
        text = re.sub(r"<[^>]+>", "", text)
        for para in text.split("\n"):
            docs.append(clean(para))
    return docs


# --- The Jargon File: plain-text rendering --------------------------------------------
def jargon_docs():
    raw = gzip.open(JARGON, "rt", encoding="utf-8").read()
    docs = []
    for para in re.split(r"\n\s*\n", raw):
        p = para.strip()
        if not p or p.startswith("[") or p.startswith(":") or p.startswith("═"):
            continue
        p = re.sub(r"[{}]", "", p)
        p = re.sub(r"^\d+\.\s+(?:(?:n|v|vt|vi|adj|adv|interj|excl|pref|suff)\.\s*)*", "", p)
        p = clean(p)
        if p.startswith("http") or "@" in p:
            continue
        docs.append(p)
    return docs


# --- The Devil's Dictionary: dictd data file -------------------------------------------
def devil_docs():
    raw = gzip.open(DEVIL, "rt", encoding="latin-1").read()
    start = raw.find("ABASEMENT, n.")
    docs = []
    for para in re.split(r"\n\s*\n", raw[start:]):
        lines = [l for l in para.split("\n") if l.strip()]
        # drop right-aligned attributions like "G.J." (deep indentation, short)
        lines = [l for l in lines if not (len(l) - len(l.lstrip()) > 30 and len(l.strip()) < 30)]
        if not lines:
            continue
        p = " ".join(l.strip() for l in lines)
        p = p.replace("_", "")
        m = re.match(r"^([A-Z][A-Z' -]+),\s*((?:[a-z]+\.\s*)+)\s*(.*)$", p)
        if m:
            head = m.group(1).strip().capitalize()
            p = f"{head}: {m.group(3)}"
        docs.append(clean(p))
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/training/corpus.txt")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--web-chars", type=int, default=2_000_000,
                    help="cap on World English Bible text (a seeded sample of its paragraphs) so it does not dominate")
    args = ap.parse_args()

    missing = [f for s in SOURCES.values() for f in s["files"] if not os.path.exists(f)]
    if missing:
        sys.exit("missing corpus files (install: apt-get install -y " + " ".join(PACKAGES) + "):\n  "
                 + "\n  ".join(missing))

    all_docs = []
    manifest = {"packages": PACKAGES, "sources": {}}
    for name, fn in (("web", web_docs), ("jargon", jargon_docs), ("devil", devil_docs)):
        docs = [d for d in fn() if ok(d)]
        if name == "web" and sum(len(d) + 1 for d in docs) > args.web_chars:
            # keep a seeded random subset of paragraphs, in book order, up to the cap
            order = list(range(len(docs)))
            random.Random(args.seed).shuffle(order)
            keep, total = set(), 0
            for i in order:
                if total + len(docs[i]) + 1 > args.web_chars:
                    continue
                keep.add(i)
                total += len(docs[i]) + 1
            docs = [d for i, d in enumerate(docs) if i in keep]
        manifest["sources"][name] = dict(SOURCES[name], documents=len(docs), chars=sum(len(d) + 1 for d in docs))
        all_docs.extend(docs)
    # deterministic interleaving of the sources
    random.Random(args.seed).shuffle(all_docs)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        for d in all_docs:
            f.write(d + "\n")
    manifest["documents"] = len(all_docs)
    manifest["chars"] = sum(len(d) + 1 for d in all_docs)
    with open(os.path.splitext(args.out)[0] + ".sources.json", "w") as f:
        json.dump(manifest, f, indent=2)
    for name, s in manifest["sources"].items():
        print(f"{name:7s} {s['documents']:6d} docs {s['chars']:9d} chars  {s['title']}")
    print(f"total   {manifest['documents']:6d} docs {manifest['chars']:9d} chars -> {args.out}")


if __name__ == "__main__":
    main()
