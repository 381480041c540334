#!/usr/bin/env python3
"""Derive data/gazetteer/countries.json from the world-countries data set (ODbL 1.0).

Usage: python3 scripts/derive-gazetteer.py ../shared/data/world-countries/countries.json

Keeps the 193 UN member states plus the states this domain needs that are not members
(Kosovo, Palestine, Holy See, Taiwan), and only the fields diplograph serves. Corrections and
domain aliases are not made here: they live in data/gazetteer/overlay.json, applied at load.
"""
import json
import sys

# world-countries marks the Holy See (VA) as a UN member; it is an observer state. It is kept
# through EXTRA_STATES either way, so the count below stays 193 members + 4.
EXTRA_STATES = {"XK", "PS", "VA", "TW"}
NOT_MEMBERS = {"VA"}


def main(path):
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    out = []
    for c in rows:
        code = c["cca2"]
        member = c.get("unMember") and code not in NOT_MEMBERS
        if not member and code not in EXTRA_STATES:
            continue
        demonyms = []
        for gender in ("m", "f"):
            d = c.get("demonyms", {}).get("eng", {}).get(gender)
            if d and d not in demonyms:
                demonyms.append(d)
        aliases = [
            a for a in c.get("altSpellings", [])
            if a not in (code, c["cca3"], c["name"]["common"], c["name"]["official"])
        ]
        out.append({
            "code": code,
            "alpha3": c["cca3"],
            "name": c["name"]["common"],
            "official": c["name"]["official"],
            "aliases": aliases,
            "demonyms": demonyms,
            "capital": (c.get("capital") or [None])[0],
            "region": c.get("region") or None,
            "subregion": c.get("subregion") or None,
            "unMember": bool(member),
        })
    out.sort(key=lambda r: r["code"])
    members = sum(1 for r in out if r["unMember"])
    assert members == 193, members
    json.dump(out, sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
