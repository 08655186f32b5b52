"""bench/results.md: the last figures of bench/run.py (pages under load) and bench/inprocess.py (PDF, CSV) on each
database, side by side, then those of bench/scaleout.py (several servers). Each script writes its own part
(bench/results-<database>.md, bench/inprocess-<database>.md, bench/breakdown-<database>.md from
bench/profile_pages.py --breakdown, bench/scaleout.md) then calls `write_index()`: a run on
PostgreSQL keeps the last SQLite figures, and the other way round."""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATABASES = (("postgresql", "PostgreSQL"), ("sqlite", "SQLite"))


def part(kind, vendor):
    return BENCH_DIR / f"{kind}-{vendor}.md"


def write_index():
    lines = [
        "# Banc d'essai à un million de demandes (issue 9)",
        "",
        "`make bench` sur SQLite, `DATABASE_URL=postgres://… make bench` sur PostgreSQL : chaque passage remplace "
        "les résultats de sa base ci-dessous. Les pages sont mesurées sous charge (bench/run.py), rapportées à la "
        "vue plancher ; le PDF et l'export CSV dans le processus (bench/inprocess.py).",
        "",
    ]
    for vendor, label in DATABASES:
        lines += [f"## {label}", ""]
        found = False
        # breakdown: where the time goes, in the process (bench/profile_pages.py --breakdown).
        for kind in ("results", "inprocess", "breakdown"):
            path = part(kind, vendor)
            if path.exists():
                found = True
                lines += [path.read_text(encoding="utf-8").rstrip("\n"), ""]
        if not found:
            lines += ["_Pas encore mesuré sur cette base._", ""]
        # `make bench BENCH_REQUESTS=10000000`: the pages at 10M, beside the 1M figures (bench/run.py results_part).
        for path in sorted(BENCH_DIR.glob(f"results-{vendor}-*m.md")):
            millions = path.stem.rsplit("-", 1)[1].removesuffix("m")
            lines += [
                f"### {label}, {millions} millions de demandes",
                "",
                _demoted(path.read_text(encoding="utf-8")),
                "",
            ]
    # Two application servers behind HAProxy, on PostgreSQL (bench/scaleout.py, `make bench-scaleout`).
    lines += ["## Plusieurs serveurs", ""]
    scaleout = BENCH_DIR / "scaleout.md"
    lines += [scaleout.read_text(encoding="utf-8").rstrip("\n") if scaleout.exists() else "_Pas encore mesuré._", ""]
    (BENCH_DIR / "results.md").write_text("\n".join(lines), encoding="utf-8")


def _demoted(text):
    """A part's headings one level down, under the heading that names its size (not a code block's comments)."""
    lines, fenced = [], False
    for line in text.rstrip("\n").split("\n"):
        fenced = fenced != line.startswith("```")
        lines.append(f"#{line}" if line.startswith("#") and not fenced else line)
    return "\n".join(lines)
