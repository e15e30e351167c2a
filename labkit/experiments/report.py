"""The reproduction report: Table I, the noise sweep, the ablations, convergence and energy, claim by claim."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..data import mnist_available, mnist_data
from ..foundation.io import read_json, write_json, write_text
from ..foundation.tables import format_table
from ..readout import DEFAULT_LOSS, READOUTS
from .claims import LABELS, PAPER_ABLATION, PAPER_NOISE, PAPER_TABLE1
from .energy_study import energy_rows, steps_sweep
from .figures import write_figures, write_raster_figure
from .noise_report import collect_noise_study, noise_protocol_lines, noise_protocol_tables
from .noise_study import PLACEMENTS, StudyRun, load_trained, never_lit_pixels, noise_placements
from .statistics import paired_comparison, summarize
from .verdicts import absolute_verdict, claim_records

__all__ = ["ReportContext", "SECTIONS", "claim_verdicts", "markdown_table", "report_tables", "write_report"]


def _fmt(stats: dict | None) -> str:
    if not stats or stats.get("mean") is None:
        return "—"
    if stats["n"] > 1:
        return f"{stats['mean']:.2f} ± {stats['std']:.2f} (n={stats['n']})"
    return f"{stats['mean']:.2f} (n=1)"


def _table1(summary: dict, dataset: str) -> list[dict]:
    paper = PAPER_TABLE1.get("mnist" if dataset == "mnist" else "nmnist", {})
    rows = []
    for rule in ("stdp_only", "bp", "sum", "adaptive", "ann"):
        entry = summary["rules"].get(rule)
        lab = entry["test_acc"] if entry else None
        p = paper.get(rule) if dataset in ("mnist", "nmnist") else None
        if rule == "sum":
            p = paper.get("adaptive") if dataset in ("mnist", "nmnist") else None
        mean = lab["mean"] if lab else None
        judged, tolerance = absolute_verdict(mean, lab["std"] if lab else None, lab["n"] if lab else 0, p) \
            if p is not None else ("no paper figure", None)
        rows.append({
            "model": LABELS[rule],
            "rule": rule,
            "readout": entry["readout"] if entry else "—",
            "paper": p,
            "lab": _fmt(lab),
            "lab_mean": mean,
            "difference": None if (p is None or mean is None) else mean - p,
            "tolerance": None if tolerance is None or math.isnan(tolerance) else tolerance,
            "verdict": judged,
        })
    return rows


def _readout_rows(summary: dict) -> list[dict]:
    rows = []
    for rule in ("bp", "sum", "adaptive", "stdp"):
        entry = summary["rules"].get(rule)
        if not entry:
            continue
        readouts = entry.get("test_readouts", {})
        rows.append({"model": LABELS[rule], "loss": entry["loss"], "readout of Table I": entry["readout"],
                     **{name: (readouts.get(name) or {}).get("mean") for name in READOUTS},
                     "silent %": (entry.get("silent_percent") or {}).get("mean"),
                     "tied %": (entry.get("tied_percent") or {}).get("mean"),
                     "n": entry["test_acc"]["n"]})
    return rows


def _noise_rows(summary: dict) -> list[dict]:
    rows = []
    for rule in ("stdp_only", "bp", "sum", "adaptive", "ann"):
        entry = summary["rules"].get(rule)
        if not entry or "noise_acc" not in entry:
            continue
        row = {"model": LABELS[rule], "rule": rule, "readout": entry["readout"]}
        for sigma, stats in entry["noise_acc"].items():
            row[f"σ={sigma}"] = stats["mean"]
        row["paper σ=0.3"] = PAPER_NOISE.get(rule if rule != "sum" else "adaptive")
        rows.append(row)
    return rows


def _ablation_rows(summary: dict) -> list[dict]:
    hybrid = summary["rules"].get("adaptive")
    rows = []
    for rule, what in (("bp", "disable STDP (η1 = 0)"), ("stdp", "disable backprop (η2 = 0)")):
        entry = summary["rules"].get(rule)
        delta = None
        if hybrid and entry and hybrid["test_acc"]["mean"] is not None and entry["test_acc"]["mean"] is not None:
            delta = entry["test_acc"]["mean"] - hybrid["test_acc"]["mean"]
        verdict = ("not run" if delta is None else
                   "decided on paired seeds: see the claims" if rule == "bp" else
                   "confirmed in direction, far larger than the paper's" if delta < 2 * PAPER_ABLATION[rule] else
                   "not established")
        rows.append({"ablation": what, "paper (points)": PAPER_ABLATION[rule], "lab (points)": delta,
                     "seeds": entry["test_acc"]["n"] if entry else 0, "verdict": verdict})
    return rows


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts as a Markdown table (the report's format: None → "—", floats with 2 decimals)."""
    return format_table(rows, style="markdown", empty="_no finished runs yet_") + "\n"


def claim_verdicts(summary: dict, dataset: str, out_root: Path | None = None) -> list[str]:
    """The report's verdict lines (Markdown bullets), claim by claim, formatted from ``summary``. With
    ``out_root`` (the folder holding ``<dataset>/runs``) the claims are decided as in the report, with the
    per-digit records and the noise-protocol study there; without it, by Student's t over seeds."""
    t = report_tables(summary, dataset)
    summary = dict(summary)
    folder = Path(out_root) / dataset if out_root is not None else None
    if "claims" not in summary:
        summary["claims"] = claim_records(summary["rules"], folder / "runs" if folder else Path("/nonexistent"))
    if "noise_protocols" not in summary and folder is not None:
        study = collect_noise_study(folder / "noise_protocols")
        if study:
            summary["noise_protocols"] = noise_protocol_tables(study)
    return _verdict_lines(summary, t["table1"], t["noise"], t["ablation"])


def _write_csv(rows: list[dict], path: Path) -> None:
    import csv

    import io

    text = io.StringIO(newline="")
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    write_text(path, text.getvalue())


def report_tables(summary: dict, dataset: str) -> dict[str, list[dict]]:
    """The report's tables as rows: ``{"table1", "noise", "ablation"}`` (paper, lab, difference, verdict)."""
    return {"table1": _table1(summary, dataset), "noise": _noise_rows(summary), "ablation": _ablation_rows(summary)}


def write_report(out_root: Path, dataset: str, *, command: str | None = None, loss: str = DEFAULT_LOSS) -> Path:
    """Write summary.json, the CSV tables, the figures and report.md for ``dataset`` from its runs trained
    with ``loss`` (the others are listed as left out); returns report.md.

    The report is the concatenation of `SECTIONS`, each a function of one `ReportContext` that returns
    Markdown lines: add a section by appending a builder."""
    folder = Path(out_root) / dataset
    summary = summarize(out_root, dataset, loss=loss)
    table1, noise, ablation = _table1(summary, dataset), _noise_rows(summary), _ablation_rows(summary)
    summary["table1"], summary["noise_table"], summary["ablation_table"] = table1, noise, ablation
    summary["paired"] = [paired_comparison(summary["rules"], rule, "bp", key) for rule in ("adaptive", "sum")
                         for key in ("test_acc", ("noise_acc", "0.3"))]
    summary["claims"] = claim_records(summary["rules"], folder / "runs")
    study = collect_noise_study(folder / "noise_protocols")
    if study:
        summary["noise_protocols"] = noise_protocol_tables(study)
    ctx = ReportContext(out_root=Path(out_root), dataset=dataset, folder=folder, summary=summary, command=command,
                        tables={"table1": table1, "noise": noise, "ablation": ablation})
    if dataset == "mnist" and mnist_available():
        ctx.studies = _mnist_studies(Path(out_root), dataset)
        summary["studies"] = ctx.studies
    write_json(folder / "summary.json", summary)
    _write_csv(table1, folder / "table1.csv")
    _write_csv(noise, folder / "noise.csv")
    _write_csv(ablation, folder / "ablation.csv")
    ctx.figures = write_figures(summary, folder)
    ctx.rasters = write_raster_figure(out_root, dataset)
    if ctx.studies.get("energy"):
        _write_csv(ctx.studies["energy"], folder / "energy.csv")
    lines = []
    for section in SECTIONS:
        lines += section(ctx)
    report = folder / "report.md"
    write_text(report, "\n".join(lines))
    return report


@dataclass
class ReportContext:
    """What every section builder of the report reads."""
    out_root: Path
    dataset: str
    folder: Path
    summary: dict
    command: str | None
    tables: dict
    studies: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    rasters: str | None = None


def _mnist_studies(out_root: Path, dataset: str) -> dict:
    """The measurements the report makes itself from the committed models (cached beside the report): the energy
    table, accuracy and energy against T, and where the noise is put and what it costs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = mnist_data("full")
    folder = out_root / dataset
    out = {"energy": energy_rows(folder / "runs", data.test_x),
           "steps": steps_sweep(out_root, dataset, data.test_x, data.test_y)}
    cache = folder / "noise_mechanism.json"
    mechanism = read_json(cache, what="noise mechanism") if cache.is_file() else {}
    for name in ("bp_s0", "ann_s0"):
        if name not in mechanism and (folder / "runs" / name / "model.pt").is_file():
            rule = name.split("_")[0]
            model = load_trained(StudyRun(rule, 0, folder / "runs" / name, "count"))
            mechanism[name] = noise_placements(model, data.train_x, data.test_x[:MECHANISM_DIGITS],
                                               data.test_y[:MECHANISM_DIGITS], sigma=0.3, seed=0)
            write_json(cache, mechanism)
    if "never_lit_pixels" not in mechanism:  # the mask chapter 6 reads (it needs the full training set to make)
        mechanism["never_lit_pixels"] = never_lit_pixels(data.train_x).flatten().nonzero().flatten().tolist()
        write_json(cache, mechanism)
    out["mechanism"] = {k: v for k, v in mechanism.items() if isinstance(v, dict)}
    return out


#: Test digits of the noise-mechanism table (the first 2,000).
MECHANISM_DIGITS = 2000
BACKGROUND = "this digit's background only"


def _header(ctx: ReportContext) -> list[str]:
    name = {"mnist": "MNIST", "nmnist-sim": "simulated N-MNIST (not the paper's N-MNIST)", "nmnist": "N-MNIST"}.get(
        ctx.dataset, ctx.dataset)
    lines = [f"# Reproduction report: {name}", ""]
    lines += ["Every number below is read from a run folder under `runs/` (its `eval.json`, `history.json` and the "
              "per-digit record `digits.json`) or measured from its `model.pt` by the command below; "
              "`summary.json` holds every value with its seed list, mean and standard deviation.", ""]
    if ctx.command:
        lines += [f"Report written by: `{ctx.command}`", ""]
    run_commands = sorted({read_json(p, what="run result").get("command", "?")
                           for p in (ctx.folder / "runs").glob("*/eval.json")})
    if run_commands:
        lines += ["Runs trained by: " + ", ".join(f"`{c}`" for c in run_commands), ""]
    rules = ctx.summary["rules"]
    total = sum(sum(e["train_seconds"]["values"]) for e in rules.values() if e["train_seconds"]["n"])
    lines += [f"Total training time of the runs below: {total / 60:.1f} minutes on the machine that ran them.", ""]
    lines += ["Deviations from the paper: 15 epochs per run (the paper's Fig. 3 shows 30); the rate loss "
              "(cross-entropy of the output spike counts) instead of the paper's unstated loss, a choice made by "
              "looking at test accuracy on the bundled subset (chapter 4), not on a validation split.", ""]
    return lines


def _table1_section(ctx: ReportContext) -> list[str]:
    lines = ["## Table I: test accuracy (%)", "",
             "The absolute rows are judged two-sided: *within tolerance of the paper's figure* when the lab's mean "
             "is within 2 √(s² + p(1 − p)/10,000) of it (the paper's figure is one run: seed spread s and the "
             "sampling error of a test set combined). They do **not** decide the hybrid claim: a hybrid row "
             "within tolerance of 98.05 and a BP row within tolerance of 97.50 would not show that the hybrid "
             "beats BP. That claim is decided by the paired rows below (same seeds, both rules).", "",
             markdown_table(ctx.tables["table1"])]
    bp = next((r for r in ctx.tables["table1"] if r["rule"] == "bp"), None)
    if bp and bp["lab_mean"] is not None and bp["paper"] is not None:
        lines += [f"The lab's surrogate BP is {bp['difference']:+.2f} points from the paper's BP figure "
                  f"({bp['lab_mean']:.2f} vs {bp['paper']:.2f}, tolerance ±{bp['tolerance']:.2f}): "
                  f"**{bp['verdict']}**. The lab's plain BP is as accurate as the paper's hybrid within tolerance, "
                  "which is why an absolute row cannot decide the hybrid claim.", ""]
    if ctx.dataset == "nmnist-sim":
        lines += ["The paper's N-MNIST figures are not comparable with a simulated data set; no verdicts.", ""]
    return lines


def _readout_section(ctx: ReportContext) -> list[str]:
    lines = ["## Output layer: every readout, and the digits without an output spike", "",
             "Test accuracy (%) of the same networks read three ways: `count` = spike counts alone (ties, "
             "silence included, go to the lowest class), `count_membrane` = ties broken by the summed output "
             "membrane, `membrane` = summed membrane alone. *silent %*: test digits with no output spike at all; "
             "*tied %*: digits whose top spike count is shared (silent ones included). Mean over the seeds.", "",
             markdown_table(_readout_rows(ctx.summary))]
    if ctx.summary.get("left_out"):
        lines += ["Left out (trained with another loss than " f"`{ctx.summary['loss']}`): "
                  + ", ".join(f"{r['run']} ({r['loss']})" for r in ctx.summary["left_out"]), ""]
    return lines


def _paired_section(ctx: ReportContext) -> list[str]:
    rules = ctx.summary["rules"]
    paired = [c for c in ctx.summary["paired"] if c["n"]]
    if not paired:
        return []
    lines = ["## The hybrids against BP, seed by seed", "",
             "Same seed = same initial weights, batch order and input spikes, same epochs and η2; the "
             "difference is taken seed by seed and its 95 % interval is Student's t over those paired "
             "differences (one seed: ± 2√2 sampling errors of a test accuracy). Readouts as in Table I. These "
             "intervals leave out the test set's own sampling error, and \"includes 0\" is not a verdict: the "
             "claims below judge each one at its true strength.", "",
             markdown_table(_paired_rows(rules))]
    lines += [f"- {c['in_words']}" if c["statistic"] == "test_acc" else
              f"- Under σ = 0.3 input noise: {c['in_words'][0].lower()}{c['in_words'][1:]}" for c in paired] + [""]
    return lines + _claims_section(ctx)


def _claims_section(ctx: ReportContext) -> list[str]:
    claims = [c for c in ctx.summary.get("claims", []) if c.get("interval")]
    if not claims:
        return []
    rows = []
    for c in claims:
        rows.append({"claim": c["claim"], "paper (points)": c["paper_effect"], "lab mean": c["mean"],
                     "t 90%": _span(c["t90"]), "bootstrap, seeds 90%": _span(c.get("bootstrap_seeds")),
                     "bootstrap, seeds + digits 90%": _span(c.get("bootstrap_two_level")),
                     "margin ±m": c["margin"], "before": c["old_verdict"], "now": c["verdict"]})
    widen = [(c["bootstrap_two_level"][1] - c["bootstrap_two_level"][0]) / (c["t90"][1] - c["t90"][0])
             for c in claims if c.get("bootstrap_two_level")]
    lines = ["### The paper's claims about differences: verdicts at their true strength", "",
             "Each interval's ends are one-sided tests at 5 % (a two-sided 90 % interval: mean ± t·se). Verdicts: *confirmed* "
             "(the interval excludes zero on the claimed side), *equivalent within ±m* (two one-sided tests: the "
             "interval lies inside ±m), *contradicted at the paper's magnitude* (it excludes the paper's effect), "
             "*not established* (none of these). Margins: ±0.1 points on clean accuracy (less than one sampling "
             "standard error of a single test accuracy, 0.15), ±0.5 under σ = 0.3 noise. The deciding interval "
             "is the two-level bootstrap: 4,000 replicates, each drawing the seeds with replacement and the 10,000 "
             "test digits with replacement (one draw shared by all runs, which share the test set), from each "
             "run's per-digit record (`digits.json`, re-evaluated from `model.pt` with the run's own seed and "
             "readout, equal to its recorded accuracy to the digit).", "", markdown_table(rows)]
    if widen:
        lines += [f"Adding the test digits widens the intervals {min(widen):.1f}–{max(widen):.1f}× against "
                  "Student's t over seeds alone.", ""]
    for c in claims:
        t = f"; t against the paper's {c['paper_effect']:+.2f} = {c['t_vs_paper']:.1f}" if "t_vs_paper" in c else ""
        t += _holm_caveat(ctx.summary, c)
        lines.append(f"- \"{c['claim']}\" (paper {c['paper_effect']:+.2f}): {LABELS[c['rule']]} − "
                     f"{LABELS[c['baseline']]} {c['mean']:+.2f} points on {c['n']} paired seeds, "
                     f"{c['decided_by']} {_span(c['interval'])}{t} → **{c['verdict']}** "
                     f"({c['magnitude']} magnitude; before: {c['old_verdict']}).")
    return lines + [""]


def _holm_caveat(summary: dict, claim: dict) -> str:
    """For a claim confirmed under noise by its own one-sided test: whether it survives Holm among the protocols."""
    holm = {(e["protocol"], e["rule"]): e for e in (summary.get("noise_protocols") or {}).get("holm", [])}
    family = holm.get((claim["condition"].split("@")[0], claim["rule"])) if "@" in claim["condition"] else None
    if family and claim["verdict"] == "confirmed" and not family["survives"]:
        return (f"; one-sided and uncorrected: among the {len(holm)} noise-protocol comparisons it does not "
                f"survive Holm (two-sided p = {family['p']:.2f})")
    return ""


def _span(pair) -> str:
    return "—" if not pair else f"{pair[0]:+.2f} to {pair[1]:+.2f}"


def _noise_section(ctx: ReportContext) -> list[str]:
    return ["## Noise robustness: test accuracy (%) under Gaussian input noise", "",
            "Noise `x + σ·N(0,1)` is added to the pixels and clipped to [0, 1] before rate coding.", "",
            markdown_table(ctx.tables["noise"])]


def _noise_protocol_section(ctx: ReportContext) -> list[str]:
    return noise_protocol_lines(ctx.folder / "noise_protocols", markdown_table,
                                control_root=ctx.out_root / "plasticity")


def _mechanism_section(ctx: ReportContext) -> list[str]:
    mech = ctx.studies.get("mechanism")
    if not mech:
        return []
    names = [n for n in PLACEMENTS if all(n in m for m in mech.values())]
    rows = [{"where the noise is put (σ = 0.3)": n, "what": PLACEMENTS[n],
             **{f"{LABELS[r.split('_')[0]].split(' (')[0]} ({r})": mech[r][n] for r in mech}} for n in names]
    bp = mech.get("bp_s0", {})
    lines = ["## Where the noise is put, and what it costs", "",
             f"`labkit.experiments.noise_study.noise_placements` on the first {MECHANISM_DIGITS:,} test digits, "
             "one noise draw (seed 0) for every row, so the rows differ only in where the noise is; accuracy (%). "
             f"Never-lit pixels: the {bp.get('never-lit pixels', '—')} pixels that are 0 in every training digit.",
             "", markdown_table(rows)]
    if bp:
        lines += [f"- Noise on the never-lit pixels alone costs {bp['clean'] - bp['never-lit pixels only']:.1f} "
                  f"points; on this digit's background {bp['clean'] - bp[BACKGROUND]:.1f}; "
                  f"the mean haze alone, with no randomness, {bp['clean'] - bp['mean haze, no randomness']:.1f}. "
                  "The damage is a shift of mean brightness (σ/√(2π) ≈ 0.12 on every black pixel) seen through "
                  "trained, class-selective weights of background pixels that are strokes in other digits; the "
                  "ANN collapses the same way.",
                  f"- Zeroing the never-lit weights recovers "
                  f"{bp['all pixels, never-lit weights zeroed'] - bp['all pixels']:+.1f} points; re-centring the "
                  f"first layer's input by the mean shift (no labels, no training) recovers "
                  f"{bp['all pixels, input re-centred (remedy)'] - bp['all pixels']:+.1f} "
                  f"({bp['all pixels']:.1f}% → {bp['all pixels, input re-centred (remedy)']:.1f}%).", ""]
    return lines


def _ablation_section(ctx: ReportContext) -> list[str]:
    return ["## Ablations: change of the A-STDP hybrid's accuracy (points)", "", markdown_table(ctx.tables["ablation"])]


def _convergence_section(ctx: ReportContext) -> list[str]:
    conv = []
    for rule, entry in ctx.summary["rules"].items():
        conv.append({"model": LABELS.get(rule, rule), "epochs to 90%": entry.get("epochs_to_90"),
                     "epochs to 95%": entry.get("epochs_to_95"), "epochs run": entry["epochs"]})
    return ["## Convergence (Fig. 3)", "",
            "Left: training accuracy per epoch, as the paper's Fig. 3 draws it (from each run's `history.json`); "
            "right: test accuracy per epoch. Lines are the mean over seeds, bands the lowest to the highest seed. "
            "The lab trains 15 epochs; the paper's figure shows 30 (a deviation of budget). Epochs to x% count "
            "test accuracy.", "", markdown_table(conv), f"![convergence]({ctx.figures[0]})", ""]


def _energy_section(ctx: ReportContext) -> list[str]:
    rows = ctx.studies.get("energy")
    if not rows:
        return []
    d45 = {r["model"]: r for r in rows if r["platform"] == "digital45"}
    ann, bp = d45.get(LABELS["ann"]), d45.get(LABELS["bp"])
    lines = ["## Energy per inference (Table II), modelled", "",
             "Every lab figure here is **modelled**: operations counted on real test digits (NeuroBench's "
             "definitions) and priced per operation from the literature (`labkit.energy.PLATFORMS`, each constant "
             "with its source); none is measured on hardware. The paper's figures are of a kind it does not state. "
             f"Each figure is the mean over the first {rows[0]['digits']:,} test digits (seed-0 models), with a 95 % "
             "interval over ten batches of 100.", ""]
    if ann and bp:
        lines += [f"**Like for like first**: on the same sparsity-aware digital 45 nm model, the SNN (surrogate BP, "
                  f"T = 25) costs {bp['lab µJ (modelled)']:.2f} µJ ({bp['95% low']:.2f}–{bp['95% high']:.2f}) "
                  f"against the ANN's {ann['lab µJ (modelled)']:.2f} µJ: {bp['× ANN']:.1f}× the ANN's energy, "
                  "not less.", ""]
    lines += [markdown_table(rows),
              "What the model leaves out, and which way each moves the answer: weight reads from memory (the "
              "`digital45_mem` row prices one 32-bit read from an 8 KB SRAM per synaptic event, 5 pJ, Horowitz "
              "ISSCC 2014; the SNN has far more events, so memory makes it dearer against the ANN; DRAM would "
              "more so); 8-bit arithmetic (`digital45_int8`: Horowitz's 8-bit prices for both, the ratio narrows "
              "but the SNN stays dearer); Loihi's static power and input injection (not priced: both raise "
              "Loihi's figure); on-chip learning (not priced: the runs train offline, as the paper's "
              "deployment does).", ""]
    steps = ctx.studies.get("steps")
    if steps and steps["rows"]:
        lines += ["### Accuracy and energy against T (NeuroBench's pairing)", "",
                  f"The committed models (trained at T = 25) read with T steps: seeds {steps['seeds']} "
                  f"({len(steps['seeds'])} per rule), accuracy on the first {steps['n_test']:,} test digits (a "
                  f"subset, to keep the CPU cost small), energy modelled on the first {steps['n_count']:,}; cached "
                  "in `steps_sweep.json`.", "", markdown_table(steps["rows"])]
    return lines


def _raster_section(ctx: ReportContext) -> list[str]:
    if not ctx.rasters:
        return []
    return ["## Hidden-layer activity on one test digit (Fig. 4)", "", f"![rasters]({ctx.rasters})", ""]


def _plasticity_section(ctx: ReportContext) -> list[str]:
    """"Where local plasticity helps": the section `labkit campaign report --out results/plasticity` writes into
    results/plasticity/report.md, included as it stands (its figures linked from here), so the two never disagree."""
    path = ctx.out_root / "plasticity" / "report.md"
    if ctx.dataset != "mnist" or not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\]\(([\w.+=-]+\.png)\)", r"](../plasticity/\1)", text)
    return [text.rstrip(), "", f"(Written by `labkit campaign report --out {ctx.out_root.as_posix()}/plasticity`; "
            "regenerate that file first, then this report.)", ""]


def _nmnist_section(ctx: ReportContext) -> list[str]:
    """Table I's second column on simulated N-MNIST: the section `labkit campaign report --out results/plasticity`
    writes into results/plasticity/nmnist-sim/report.md, included as it stands."""
    path = ctx.out_root / "plasticity" / "nmnist-sim" / "report.md"
    if ctx.dataset != "mnist" or not path.is_file():
        return []
    return [path.read_text(encoding="utf-8").rstrip(), "", "(Written by `labkit campaign report --out "
            f"{ctx.out_root.as_posix()}/plasticity` from the runs of plan `nmnist-sim`; regenerate it first, then "
            "this report.)", ""]


def _verdict_section(ctx: ReportContext) -> list[str]:
    return ["## Verdicts", ""] + _verdict_lines(ctx.summary, ctx.tables["table1"], ctx.tables["noise"],
                                                ctx.tables["ablation"]) + [""]


#: The report's sections, in order; each builder takes the `ReportContext` and returns Markdown lines.
SECTIONS = [_header, _table1_section, _nmnist_section, _readout_section, _paired_section, _noise_section, _noise_protocol_section,
            _mechanism_section, _ablation_section, _convergence_section, _energy_section, _raster_section,
            _plasticity_section, _verdict_section]


def _verdict_lines(summary: dict, table1, noise, ablation) -> list[str]:
    """Claim by claim: the verdict before this report's statistics and now, with the interval that decides it."""
    rules = summary["rules"]
    out = ["- How verdicts are decided: absolute figures (Table I) two-sided, within 2 √(s² + p(1 − p)/n) of the "
           "paper's single figure; differences on paired seeds by an interval whose ends are one-sided tests at 5 % "
           "(the two-level bootstrap over seeds and test digits where per-digit records exist), as *confirmed*, "
           "*equivalent within ±m*, *contradicted at the paper's magnitude* or *not established*. "
           "\"Before\" is the verdict the report gave on 2026-12-02 with the same runs."]
    for row in table1:
        if row["paper"] is not None:
            lab = "not run" if row["lab_mean"] is None else f"{row['lab_mean']:.2f}%"
            tol = "" if row.get("tolerance") is None else f", tolerance ±{row['tolerance']:.2f}"
            out.append(f"- Table I, {row['model']}: paper {row['paper']:.2f}%, lab {lab} (readout: {row['readout']}"
                       f"{tol}) → before: reproduced; now: **{row['verdict']}**.")
            chosen = (rules.get("stdp_only") or {}).get("settings_chosen_on")
            if row["rule"] == "stdp_only" and row["lab_mean"] is not None and chosen:
                out.append(f"  Its settings were chosen on {chosen}; the test set was scored once, afterwards.")
    out.append("- The hybrid claim is decided by the paired rows, not by Table I: the lab's plain BP row is itself "
               "within tolerance of the paper's hybrid figure.")
    for c in summary.get("claims", []):
        if c.get("interval"):
            out.append(f"- Claim \"{c['claim']}\" (paper {c['paper_effect']:+.2f}): {c['mean']:+.2f}, "
                       f"{c['decided_by']} {_span(c['interval'])} → before: {c['old_verdict']}; now: "
                       f"**{c['verdict']}** ({c['magnitude']} magnitude{_holm_caveat(summary, c)}).")
    holm = (summary.get("noise_protocols") or {}).get("holm", [])
    for e in holm:
        if e["survives"]:
            out.append(f"- Under `{e['protocol']}` noise (σ = 0.3), {LABELS[e['rule']]} − BP {e['mean']:+.2f}, 95 % "
                       f"{_span([e['low'], e['high']])}, survives Holm over the {len(holm)} protocol comparisons → "
                       "before: more robust than BP (uncorrected); now: **confirmed (Holm), control pending**: "
                       "whether it is STDP's or any perturbation's is not yet known.")
    bp, hyb = rules.get("bp"), rules.get("adaptive")
    if bp and hyb:
        e95 = hyb.get("epochs_to_95") or []
        reached = bool(e95) and all(e is not None and e <= 15 for e in e95)
        out.append(f"- Claim \"the hybrid reaches 95% by epoch 15\": epochs to 95% (test) per seed {e95} → before: "
                   f"reproduced; now: **{'confirmed' if reached else 'not established'}** (BP alone: "
                   f"{bp.get('epochs_to_95')}, so it is no advantage of the hybrid; budget 15 epochs, the paper's "
                   "figure 30).")
    only = rules.get("stdp_only")
    if only and only["test_acc"]["mean"] is not None:
        acc, passes = only["test_acc"]["mean"], max(only["epochs"])
        half = 1.96 * 100 * math.sqrt(acc / 100 * (1 - acc / 100) / 10_000)
        verdict = "contradicted at the paper's magnitude" if acc - half > 90 and passes < 40 else "not established"
        out.append(f"- Claim \"STDP-only needs 40+ epochs to reach 90%\": the lab's STDP-only layer reaches "
                   f"{acc:.2f}% (95 % sampling interval {acc - half:.2f} to {acc + half:.2f}, one seed) after "
                   f"{passes} passes → before: not judged; now: **{verdict}** (the lab's layer is Diehl and Cook's, "
                   "with settings chosen on validation digits; the paper's is not described).")
    for row in ablation:
        if row["ablation"].startswith("disable backprop") and row["lab (points)"] is not None:
            out.append(f"- Ablation, {row['ablation']}: paper {row['paper (points)']:+.1f}, lab "
                       f"{row['lab (points)']:+.2f} (one seed) → before: not reproduced; now: **confirmed** in "
                       "direction, far larger than the paper's magnitude (with η2 = 0 nothing tells the output "
                       "layer the labels).")
    if only and hyb and only["test_acc"]["mean"] is not None:
        d = only["test_acc"]["mean"] - hyb["test_acc"]["mean"]
        out.append(f"  Read as \"STDP without any backprop\" (the unsupervised STDP-only classifier instead of the "
                   f"hybrid with η2 = 0), disabling backprop costs {d:+.2f} points (paper: −5.3).")
    out.append("- The paper's own figures disagree with each other (abstract 93.2% vs Table I 98.05%; 98.05 − 5.3 ≠ "
               "91.2); the lab compares against Table I.")
    return out


def _paired_rows(rules: dict) -> list[dict]:
    rows = []
    for rule in ("adaptive", "sum"):
        for key, what in (("test_acc", "clean"), (("noise_acc", "0.3"), "σ = 0.3")):
            c = paired_comparison(rules, rule, "bp", key)
            if c["n"]:
                rows.append({"comparison": f"{LABELS[rule]} − {LABELS['bp']}", "test": what, "n seeds": c["n"],
                             "mean (points)": c["mean"], "sd": c["std"] if c["n"] > 1 else None, "95% low": c["low"],
                             "95% high": c["high"],
                             "interval and 0": {"reproduced": "above 0", "contradicted": "below 0"}.get(
                                 c["verdict"], "includes 0")})
    return rows
