"""Font cost benchmark: `make bench` (7 renders of each document) / `make bench-full` (BENCH_FULL=1: 21).

Certificates print learners' names in any script with Debian's fonts-dejavu-core (the templates' "DejaVu Serif"),
fonts-noto-core (Arabic, Devanagari and other scripts) and fonts-noto-cjk (Chinese, Japanese, Korean): the templates
ask for DejaVu Serif and fontconfig falls back, glyph by glyph, to an installed font that has the character
(consortium/pdf.py builds one default FontConfiguration per process and fails a render with MissingGlyphs rather than
printing empty boxes). What does that coverage cost?

1. the installed size of each font package (dpkg) and of its font files;
2. cold start in a fresh process (as a new Celery pool process, or one replaced after
   CELERY_WORKER_MAX_TASKS_PER_CHILD tasks): importing WeasyPrint, building the FontConfiguration, the first
   certificate, the first CJK one, with every font installed vs with fontconfig restricted to DejaVu
   (FONTCONFIG_FILE with the DejaVu directory only), and with every font but no fontconfig cache;
3. in this process, warm: the median render (``rendering.render_html`` + ``html_to_pdf``, no seal; CPU time, which
   other processes on the machine do not move, and wall time) of a certificate and a supplement whose learner's
   name is Latin, Greek, Cyrillic, Arabic, Devanagari, Chinese, Japanese or Korean, and the PDF's size;
4. that each PDF shows the name: no .notdef glyph, its text (pypdf) contains the name, and the fonts embedded
   (subsets) are the expected ones (``EXPECTED_FONT``); which scripts a DejaVu-only machine renders at all.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("fonts-dejavu-core", "fonts-noto-core", "fonts-noto-cjk")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
#: (script, given names, family names); each becomes one learner of the cohort.
NAMES = [
    ("Latin", "Siobhán Łucja", "Ó Súilleabháin-Weiß"),
    ("Greek", "Αλέξανδρος", "Παπαδόπουλος"),
    ("Cyrillic", "Анастасия", "Кузнецова"),
    ("Arabic", "نور", "حداد"),
    ("Devanagari", "प्रिया", "शर्मा"),
    ("Chinese", "小明", "王"),
    ("Japanese", "さくら", "山田"),
    ("Korean", "민준", "김"),
]
#: The font that shows each script's name: the templates' DejaVu Serif, or fontconfig's fallback for what it lacks
#: (Arabic: DejaVu Sans has it, else Noto; Devanagari: Noto only; CJK: Noto CJK). Any listed part of a name will do.
EXPECTED_FONT = {"Latin": ("DejaVu-Serif",), "Greek": ("DejaVu-Serif",), "Cyrillic": ("DejaVu-Serif",),
                 "Arabic": ("DejaVu-Sans", "Arabic"), "Devanagari": ("Devanagari",), "Chinese": ("CJK",),
                 "Japanese": ("CJK",), "Korean": ("CJK",)}
#: Scripts whose name the PDF shows right (no .notdef) but whose text layer does not give it back, so copy-paste and
#: search get another string (PDF/A-3b, level B, does not require the text layer to be right).
TEXT_LAYER_GAPS = {"Devanagari": "WeasyPrint's ToUnicode gives a reordered cluster in visual order: शर्मा is "
                                 "extracted as शार्मा"}
KINDS = ("certificate", "supplement")


# --- Helpers shared with the child process (no Django there) -----------------------------------------------------


def _pdf_fonts(pdf: bytes) -> list[str]:
    """The embedded fonts' names, without the subset tag (``ABCDEF+``)."""
    import io

    import pypdf

    names: set[str] = set()
    seen: set[int] = set()

    def walk(resources) -> None:
        if not resources:
            return
        resources = resources.get_object()
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            names.add(str(font.get("/BaseFont", "?")).lstrip("/").split("+", 1)[-1])
        for ref in (resources.get("/XObject") or {}).values():
            key = id(ref.get_object())
            if key not in seen and "/Resources" in ref.get_object():
                seen.add(key)
                walk(ref.get_object()["/Resources"])

    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"))
    return sorted(names)


def _flat(text: str) -> str:
    """NFKC (Arabic presentation forms → letters, as text extraction may give them), without whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _name_check(pdf: bytes, name: str) -> str:
    """``found``, ``found (reversed)`` (visual order, as some extractors give right-to-left text) or ``MISSING``
    (from the text layer: the glyphs may still be right, see ``TEXT_LAYER_GAPS``)."""
    import io

    import pypdf

    text = _flat("\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    flat = _flat(name)
    if flat in text:
        return "found"
    if flat[::-1] in text:
        return "found (reversed)"
    return "MISSING"


def _child(mode: str, paths: list[str]) -> None:
    """In a fresh process: ``cold`` times the start (paths: a Latin and a CJK certificate's HTML); ``coverage``
    renders each HTML (paths: ``script=name=file``) and reports the outcome. Prints JSON."""
    import resource

    started, started_wall = time.process_time(), time.perf_counter()
    import weasyprint  # noqa: F401  (timed: the import a pool process pays on its first render)

    sys.path.insert(0, str(ROOT))
    from consortium.pdf import _font_config, html_to_pdf

    imported = time.process_time()
    _font_config()
    configured = time.process_time()
    if mode == "cold":
        latin, cjk = (Path(p).read_text() for p in paths)
        figures = {"import_s": imported - started, "font_config_s": configured - imported}
        for key, html in (("first_s", latin), ("second_s", latin), ("first_cjk_s", cjk), ("second_cjk_s", cjk)):
            before = time.process_time()
            try:
                html_to_pdf(html)
            except ValueError:  # MissingGlyphs: no CJK font in this configuration
                figures[key] = None
                continue
            figures[key] = time.process_time() - before
            if key == "first_s":
                figures["wall_s"] = time.perf_counter() - started_wall
            if key == "second_s":
                figures["rss_latin_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        status = Path("/proc/self/status").read_text()
        for key in ("RssAnon", "RssFile"):  # RssFile: the font files mapped (shared with other processes)
            figures[key] = int(status.split(f"{key}:", 1)[1].split()[0]) / 1024
        print(json.dumps(figures))
        return
    outcome = {}
    for item in paths:
        script, name, path = item.split("=", 2)
        try:
            pdf = html_to_pdf(Path(path).read_text())
        except ValueError as exc:  # MissingGlyphs
            outcome[script] = {"ok": False, "error": f"{exc.__class__.__name__}: {str(exc)[:90]}…"}
            continue
        outcome[script] = {"ok": True, "fonts": _pdf_fonts(pdf), "name": _name_check(pdf, name)}
    print(json.dumps(outcome))


# --- Fonts on disk and fontconfig configurations ------------------------------------------------------------------


def _package(package: str) -> dict:
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}", package], capture_output=True,
                               text=True)
    if installed.returncode or not installed.stdout.strip():
        return {"package": package, "installed_kib": None, "files": 0, "bytes": 0, "dirs": []}
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout.split()
    fonts = [Path(p) for p in listing if p.endswith(FONT_SUFFIXES) and Path(p).is_file()]
    return {"package": package, "installed_kib": int(installed.stdout), "files": len(fonts),
            "bytes": sum(f.stat().st_size for f in fonts), "dirs": sorted({str(f.parent) for f in fonts})}


def _fonts_conf(folder: Path, *, dirs: list[str], cachedir: str) -> Path:
    """A fontconfig configuration with only ``dirs``, Debian's rules (conf.d) and ``cachedir``."""
    path = folder / f"fonts-{len(list(folder.glob('fonts-*.conf')))}.conf"
    listed = "\n".join(f"  <dir>{d}</dir>" for d in dirs)
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
{listed}
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
  <cachedir>{cachedir}</cachedir>
</fontconfig>
""")
    return path


def _run_child(mode: str, paths: list[str], fonts_conf: Path | None) -> dict:
    env = {**os.environ}
    env.pop("FONTCONFIG_FILE", None)
    if fonts_conf:
        env["FONTCONFIG_FILE"] = str(fonts_conf)
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.fonts", "--child", mode, *paths], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"The {mode} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- The benchmark ------------------------------------------------------------------------------------------------


def _documents() -> dict[tuple[str, str], Callable[[], str]]:
    """``{(script, kind): the document's render_html}``: one learner per script, awarded with the project's
    services, each document as ``document_render`` renders it (from the credential's frozen snapshot)."""
    from unittest import mock

    from certification import rendering, services
    from certification.tasks import render_document
    from tests.benchmarks.certificates import _cohort

    _edition, board, enrolments = _cohort(len(NAMES))
    makers = {}
    with mock.patch.object(render_document, "delay_on_commit"):
        for (script, given, family), enrolment in zip(NAMES, enrolments, strict=True):
            application = enrolment.application
            application.given_names, application.family_names = given, family
            application.save()
            credential = services.award_decide(actor=board, enrolment=enrolment).credentials.get()
            data = credential.snapshot
            for kind in KINDS:
                makers[script, kind] = partial(rendering.render_html, data, credential_id=credential.credential_id,
                                               kind=kind, language=data["programme"]["primary_language"])
    return makers


def run(rounds: int, cold_runs: int) -> dict:
    makers = _documents()
    with tempfile.TemporaryDirectory(prefix="bench-fonts-") as folder:
        figures = _cold({key: make() for key, make in makers.items()}, Path(folder), cold_runs)
    return {**figures, **_warm(makers, rounds), "rounds": rounds, "cold_runs": cold_runs}


def _cold(html: dict[tuple[str, str], str], scratch: Path, cold_runs: int) -> dict:
    """Fresh processes: the cold start per fontconfig configuration, and what renders with DejaVu only."""
    files = {}
    for (script, kind), text in html.items():
        files[script, kind] = scratch / f"{script}-{kind}.html"
        files[script, kind].write_text(text)

    packages = [_package(p) for p in PACKAGES]
    dejavu_dirs = next(p["dirs"] for p in packages if p["package"] == "fonts-dejavu-core")
    system_dirs = ["/usr/share/fonts", "/usr/local/share/fonts"]
    configs = {
        "every font installed": None,
        "DejaVu only": _fonts_conf(scratch, dirs=dejavu_dirs, cachedir="/var/cache/fontconfig"),
    }
    cold: dict[str, list[dict]] = {name: [] for name in [*configs, "every font, no fontconfig cache"]}
    cold_paths = [str(files["Latin", "certificate"]), str(files["Japanese", "certificate"])]
    for index in range(cold_runs):  # interleaved, so every configuration sees the same machine load
        for name, conf in configs.items():
            cold[name].append(_run_child("cold", cold_paths, conf))
        empty = _fonts_conf(scratch, dirs=system_dirs, cachedir=str(scratch / f"fc-cache-{index}"))
        cold["every font, no fontconfig cache"].append(_run_child("cold", cold_paths, empty))
    coverage_paths = [f"{script}={given} {family}={files[script, 'certificate']}" for script, given, family in NAMES]
    return {"packages": packages, "cold": cold,
            "dejavu_only": _run_child("coverage", coverage_paths, configs["DejaVu only"])}


def _warm(makers: dict[tuple[str, str], Callable[[], str]], rounds: int) -> dict:
    """In this process (one FontConfiguration, as a worker): every document once, then interleaved rounds."""
    from certification import rendering

    pdfs = {key: rendering.html_to_pdf(make()) for key, make in makers.items()}
    times: dict[tuple[str, str], list[float]] = {key: [] for key in makers}
    walls: dict[tuple[str, str], list[float]] = {key: [] for key in makers}
    for _round in range(rounds):
        for key, make in makers.items():
            started, started_wall = time.process_time(), time.perf_counter()
            rendering.html_to_pdf(make())
            times[key].append(time.process_time() - started)
            walls[key].append(time.perf_counter() - started_wall)
    checks = {script: {"name": _name_check(pdfs[script, "certificate"], f"{given} {family}"),
                       "name_supplement": _name_check(pdfs[script, "supplement"], f"{given} {family}"),
                       "fonts": sorted(set(_pdf_fonts(pdfs[script, "certificate"]))
                                       | set(_pdf_fonts(pdfs[script, "supplement"])))}
              for script, given, family in NAMES}
    return {"times": times, "walls": walls, "checks": checks, "sizes": {key: len(pdf) for key, pdf in pdfs.items()}}


def _median(rows: list[dict], key: str) -> float | None:
    values = [row[key] for row in rows if row[key] is not None]
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    return "     —" if value is None else f"{value * 1000:6.0f}"


def _report(figures: dict) -> None:
    print(f"Font cost benchmark — certificate + supplement per script, {figures['rounds']} renders each (median), "
          f"{figures['cold_runs']} fresh processes per configuration; load average "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("  font packages (dpkg Installed-Size; font files)")
    for p in figures["packages"]:
        if p["installed_kib"] is None:
            print(f"    {p['package']:<20} NOT INSTALLED")
            continue
        print(f"    {p['package']:<20} {p['installed_kib'] / 1024:6.1f} MiB installed; {p['files']:3d} font files, "
              f"{p['bytes'] / 2**20:6.1f} MiB")
    print("  cold start in a fresh process, median CPU ms: import WeasyPrint + FontConfiguration + first "
          "certificate = total (wall) | second certificate | first CJK certificate | second CJK; peak RSS")
    for name, rows in figures["cold"].items():
        for row in rows:
            row["total_s"] = row["import_s"] + row["font_config_s"] + row["first_s"]
        cells = " | ".join(_ms(_median(rows, k)) + (f" ({_ms(_median(rows, 'wall_s')).strip()})"
                                                    if k == "total_s" else "")
                           for k in ("import_s", "font_config_s", "first_s", "total_s", "second_s", "first_cjk_s",
                                     "second_cjk_s"))
        print(f"    {name:<32} {cells}; {_median(rows, 'rss_latin_mb'):.0f} MB after Latin, "
              f"{_median(rows, 'rss_mb'):.0f} MB after CJK (now {_median(rows, 'RssAnon'):.0f} MB anonymous + "
              f"{_median(rows, 'RssFile'):.0f} MB files mapped)")
    print("    (— : no font for CJK in that configuration, the render fails with MissingGlyphs)")
    latin = {kind: statistics.median(figures["times"]["Latin", kind]) for kind in KINDS}
    print("  warm render in a long-running process (render_html → html_to_pdf, no seal): median CPU ms (Δ vs Latin) "
          "[median wall ms], PDF size (Δ vs Latin)")
    for script, _given, _family in NAMES:
        cells = []
        for kind in KINDS:
            ms = statistics.median(figures["times"][script, kind]) * 1000
            wall = statistics.median(figures["walls"][script, kind]) * 1000
            size = figures["sizes"][script, kind] / 1024
            delta = ms - latin[kind] * 1000
            delta_size = size - figures["sizes"]["Latin", kind] / 1024
            cells.append(f"{kind} {ms:5.0f} ms ({delta:+4.0f}) [{wall:4.0f}] {size:5.1f} KiB ({delta_size:+5.1f})")
        print(f"    {script:<10} " + "   ".join(cells))
    print("  glyphs, every font installed: no .notdef glyph (html_to_pdf raises MissingGlyphs otherwise), the name in "
          "the PDF text (pypdf), the fonts embedded (subsets)")
    for script, _given, _family in NAMES:
        check = figures["checks"][script]
        expected = EXPECTED_FONT[script]
        font_ok = any(part in font for font in check["fonts"] for part in expected)
        print(f"    {script:<10} certificate: {check['name']:<16} supplement: {check['name_supplement']:<16} "
              f"{'ok' if font_ok else 'UNEXPECTED'} ({' or '.join(expected)}): {', '.join(check['fonts'])}")
    for script, note in TEXT_LAYER_GAPS.items():
        print(f"    ({script}: the glyphs are right, the text layer is not: {note})")
    print("  with DejaVu only (FONTCONFIG_FILE), the certificate of each script:")
    for script, outcome in figures["dejavu_only"].items():
        if outcome["ok"]:
            print(f"    {script:<10} renders, name {outcome['name']}: {', '.join(outcome['fonts'])}")
        else:
            print(f"    {script:<10} fails: {outcome['error']}")


def main() -> None:
    from tests.benchmarks.common import setup_django, test_database

    setup_django()
    full = os.environ.get("BENCH_FULL") == "1"
    with test_database():
        figures = run(rounds=21 if full else 7, cold_runs=7 if full else 3)
    _report(figures)
    failures = [s for s, c in figures["checks"].items()
                if "MISSING" in (c["name"], c["name_supplement"]) and s not in TEXT_LAYER_GAPS]
    if failures:
        print(f"  MISSING names in the PDFs of: {', '.join(failures)}")
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3:])
    else:
        main()
