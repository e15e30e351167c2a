r"""The section "Where local plasticity helps": paired differences, Holm's correction, plain-words verdicts.

For every comparison of a regime (a variant against BP, STDP against its same-norm random control,
STDP against the trivial baseline) the seeds are paired: the difference d_s = acc(A, s) − acc(B, s)
of each seed, its mean, the 95% t-interval and a two-sided p-value of the paired t-test. Holm's
step-down correction runs over all the comparisons of one regime (the family), so that a regime
tested in many ways does not find an effect by chance. A verdict names what the data decide:

* **helps**: the Holm-corrected test rejects "no difference" and the mean is positive;
* **hurts**: the same with a negative mean;
* **no effect shown**: not rejected; the interval says how large an effect is still possible.

The figures: the paired difference from BP against the measured dose ρ (log axis), accuracy against
the number of labels (log axis), and accuracy against the number of unlabelled digits seen under
each shift.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..experiments.statistics import holm, paired_t_p, t_interval
from ..foundation.io import write_text
from .figures import plot_all
from .nmnist import PLAN as NMNIST_PLAN, nmnist_section, write_nmnist_report
from .plans import PLANS
from .results import load_results, mean_dose

__all__ = ["compare", "regime_tables", "write_report"]


def compare(a: dict[int, float], b: dict[int, float]) -> dict | None:
    """Paired comparison of two {seed: accuracy} maps (in points): mean, 95% t-interval, two-sided p, n; None below
    two pairs (`labkit.experiments.statistics`, the report's own arithmetic)."""
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        return None
    d = [100.0 * (a[s] - b[s]) for s in seeds]
    ci = t_interval(d, 0.95)
    return {"mean": ci["mean"], "low": ci["low"], "high": ci["high"], "p": paired_t_p(d), "n": ci["n"]}


def _verdict(c: dict, rejected: bool) -> str:
    if rejected:
        return "**helps**" if c["mean"] > 0 else "**hurts**"
    return "no effect shown"


def _family(rows: list[tuple[str, dict | None]]) -> list[dict]:
    """Holm over a regime's comparisons; each row gains its verdict."""
    present = [(name, c) for name, c in rows if c is not None]
    flags = holm([c["p"] for _, c in present])
    return [{"comparison": name, **c, "verdict": _verdict(c, f)} for (name, c), f in zip(present, flags)]


def _by_seed(results: list[dict], key=lambda r: r["test_acc"], **match) -> dict[int, float]:
    return {r["point"]["seed"]: key(r) for r in results if all(r["point"].get(k) == v for k, v in match.items())}


def dose_rows(results: list[dict]) -> list[dict]:
    """The dose plan's family: each variant and η1 against BP, and STDP (``sum``) against its controls."""
    bp = _by_seed(results, variant="bp")
    rows = []
    for variant, eta1 in sorted({(r["point"]["variant"], r["point"].get("eta1")) for r in results if "eta1" in r["point"]},
                                key=lambda k: (k[1], k[0])):
        rows.append((f"{variant} (η1 = {eta1:g}) − BP", compare(_by_seed(results, variant=variant, eta1=eta1), bp)))
    for eta1 in sorted({r["point"]["eta1"] for r in results if r["point"]["variant"] == "sum"}):
        stdp = _by_seed(results, variant="sum", eta1=eta1)
        for control in ("random", "decay"):
            rows.append((f"sum − {control} control (η1 = {eta1:g})",
                         compare(stdp, _by_seed(results, variant=control, eta1=eta1))))
    protocols = sorted({p for r in results for p in r.get("noise_acc", {})})
    for p in protocols:  # under noise: is a hybrid effect STDP's, or any change of that size?
        bp_noisy = _by_seed(results, key=lambda r, p=p: r["noise_acc"][p], variant="bp")
        for eta1 in sorted({r["point"]["eta1"] for r in results if r["point"]["variant"] == "sum"}):
            stdp = _by_seed(results, key=lambda r, p=p: r["noise_acc"][p], variant="sum", eta1=eta1)
            rand = _by_seed(results, key=lambda r, p=p: r["noise_acc"][p], variant="random", eta1=eta1)
            rows.append((f"sum − BP under σ = 0.3 {p} (η1 = {eta1:g})", compare(stdp, bp_noisy)))
            rows.append((f"sum − random control under σ = 0.3 {p} (η1 = {eta1:g})", compare(stdp, rand)))
    family = _family(rows)
    doses = {}
    for r in results:
        if "eta1" in r["point"]:
            doses.setdefault((r["point"]["variant"], r["point"]["eta1"]), []).append(mean_dose(r))
    for row in family:
        for (variant, eta1), values in doses.items():
            if row["comparison"].startswith(f"{variant} (η1 = {eta1:g})"):
                values = [v for v in values if v is not None]
                row["dose"] = sum(values) / len(values) if values else None
    return family


def label_rows(results: list[dict]) -> list[dict]:
    rows = []
    for n in sorted({r["point"]["labels"] for r in results}):
        bp = _by_seed(results, variant="bp", labels=n)
        rand = _by_seed(results, variant="random", labels=n)
        for variant in ("pretrain", "interleave"):
            mine = _by_seed(results, variant=variant, labels=n)
            rows.append((f"{variant} − BP ({n} labels)", compare(mine, bp)))
            rows.append((f"{variant} − random control ({n} labels)", compare(mine, rand)))
    return _family(rows)


def shift_rows(results: list[dict]) -> list[dict]:
    rows = []
    for shift in sorted({r["point"]["shift"] for r in results}):
        of = [r for r in results if r["point"]["shift"] == shift]
        stdp = {r["point"]["seed"]: r["stdp"][-1] for r in of}
        for name, key in (("no adaptation", "none"), ("re-centring", "recentre"), ("random control", "random")):
            other = {r["point"]["seed"]: (r[key][-1] if isinstance(r[key], list) else r[key]) for r in of}
            rows.append((f"STDP − {name} ({shift}, 5,000 digits)", compare(stdp, other)))
        recentre = {r["point"]["seed"]: r["recentre"][-1] for r in of}
        none = {r["point"]["seed"]: r["none"] for r in of}
        rows.append((f"re-centring − no adaptation ({shift})", compare(recentre, none)))
        if all("recentre+stdp" in r for r in of):
            both = {r["point"]["seed"]: r["recentre+stdp"][-1] for r in of}
            rows.append((f"re-centring + STDP − re-centring ({shift})", compare(both, recentre)))
    return _family(rows)


def regime_tables(out: str | os.PathLike) -> dict[str, list[dict]]:
    """Each regime's family of comparisons, from whichever plans have results."""
    tables = {}
    for name, plan in PLANS.items():
        results = load_results(out, name)
        if not results or plan.regime == "nmnist":  # Table I's second column has its own section (nmnist_section)
            continue
        rows = {"dose": dose_rows, "labels": label_rows, "shift": shift_rows}[plan.regime](results)
        tables[name] = {"rows": rows, "n_results": len(results), "n_points": len(plan.points),
                        "seeds": sorted({r["point"]["seed"] for r in results}),
                        "cpu_hours": sum(r.get("cpu_seconds", 0.0) for r in results) / 3600,
                        "commits": sorted({str(r.get("commit")) for r in results}), "notes": plan.notes}
    return tables


def _span(r: dict) -> str:
    return f"{r['mean']:+.2f} points (95% {r['low']:+.2f} to {r['high']:+.2f}, n = {r['n']}; {r['verdict']})"


def _find(rows: list[dict], start: str) -> list[dict]:
    return [r for r in rows if r["comparison"].startswith(start)]


def dose_summary(rows: list[dict]) -> list[str]:
    """Plain words for the dose family: does STDP beat BP anywhere, and its same-norm controls?"""
    hybrid = [r for r in rows if r["comparison"].split(" ")[0] in ("sum", "adaptive", "rising") and "− BP" in r["comparison"]]
    helps = [r["comparison"] for r in hybrid if r["verdict"] == "**helps**"]
    hurts = sorted((r for r in hybrid if r["verdict"] == "**hurts**" or r["high"] < 0), key=lambda r: r.get("dose") or 0)
    control = [r for r in rows if "control" in r["comparison"] and r["comparison"].startswith("sum − random")]
    beats = [r["comparison"] for r in control if r["verdict"] == "**helps**"]
    best = max(hybrid, key=lambda r: r["mean"]) if hybrid else None
    lines = ["**Verdict (dose).** " + (
        f"A hybrid rule beats BP after Holm's correction at: {', '.join(helps)}." if helps else
        "No hybrid rule (literal sum, A-STDP, A-STDP with rising coefficients) beats BP at any dose tested, after "
        "Holm's correction" + (f"; the best row is {best['comparison']}: {_span(best)}" if best else "") + ".")]
    worse = [r["comparison"] for r in control if r["verdict"] == "**hurts**"]
    lines.append(("STDP beats its random control of the same norm at: " + ", ".join(beats) + ".") if beats else
                 "STDP does not beat a random change of the same norm at any dose: where it does not hurt, what it "
                 "does to accuracy any change of the weights of that size does as well.")
    if worse:
        lines.append("It does worse than the random change at: " + ", ".join(worse) + " (a systematic change "
                     "accumulates where a random one averages out).")
    if hurts:
        first = hurts[0]
        lines.append(f"Where the interval lies wholly below zero, STDP costs accuracy: from {first['comparison']} "
                     f"(measured dose ρ ≈ {first.get('dose', float('nan')):.2g}) on.")
    return [" ".join(lines), ""]


def shift_summary(rows: list[dict]) -> list[str]:
    lines = []
    for shift in sorted({r["comparison"].split("(")[1].split(",")[0].split(")")[0] for r in rows}):
        of = [r for r in rows if f"({shift}" in r["comparison"]]
        parts = [f"{r['comparison'].split(' (')[0]}: {_span(r)}" for r in of]
        lines.append(f"- **{shift}**: " + "; ".join(parts) + ".")
    stdp_rows = [r for r in rows if r["comparison"].startswith("STDP − ")]
    beats_random = [r for r in stdp_rows if "random" in r["comparison"] and r["verdict"] == "**helps**"]
    beats_trivial = [r for r in stdp_rows if "re-centring" in r["comparison"] and r["verdict"] == "**helps**"]
    adds = [r for r in rows if r["comparison"].startswith("re-centring + STDP") and r["verdict"] == "**helps**"]
    verdict = ("**Verdict (shifted inputs).** STDP beats its random control under "
               + (", ".join(r["comparison"].split("(")[1].split(",")[0] for r in beats_random) or "no shift")
               + "; it beats the trivial baseline (re-centring the first layer) under "
               + (", ".join(r["comparison"].split("(")[1].split(",")[0] for r in beats_trivial) or "no shift")
               + "; on top of re-centring it adds accuracy under "
               + (", ".join(r["comparison"].split("(")[1].split(")")[0] for r in adds) or "no shift") + ".")
    return [verdict, "", *lines, ""]


def label_summary(rows: list[dict]) -> list[str]:
    helps_bp = [r["comparison"] for r in rows if "− BP" in r["comparison"] and r["verdict"] == "**helps**"]
    helps_rand = [r["comparison"] for r in rows if "random" in r["comparison"] and r["verdict"] == "**helps**"]
    return [("**Verdict (few labels).** STDP on unlabelled images beats BP on the labelled digits alone at: "
             + (", ".join(helps_bp) or "no budget tested") + "; it beats the random control at: "
             + (", ".join(helps_rand) or "no budget tested") + " (Holm over the table)."), ""]


def _table_markdown(rows: list[dict], with_dose: bool) -> str:
    head = "| comparison | " + ("dose ρ (layer 1) | " if with_dose else "") + \
        "mean (points) | 95% interval | p | n | verdict (Holm) |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        dose = f"{r['dose']:.3g} | " if with_dose and r.get("dose") is not None else ("— | " if with_dose else "")
        lines.append(f"| {r['comparison']} | {dose}{r['mean']:+.2f} | {r['low']:+.2f} to {r['high']:+.2f} | "
                     f"{r['p']:.3g} | {r['n']} | {r['verdict']} |")
    return "\n".join(lines)


def write_report(out: str | os.PathLike = "results/plasticity") -> Path:
    """Write ``out/report.md`` (the section, with its tables and figures) from the results under ``out``."""
    out = Path(out)
    tables = regime_tables(out)
    figures = plot_all(out)
    parts = ["## Where local plasticity helps", "",
             "Written by `labkit campaign report --out results/plasticity` from the results under this folder. Every row pairs seeds; "
             "the verdict is Holm-corrected over the rows of its table (family-wise 5%). Accuracies are test "
             "accuracies, scored once; settings were chosen on validation digits.", ""]
    for name, t in tables.items():
        complete = "complete" if t["n_results"] == t["n_points"] else f"**partial: {t['n_results']} of {t['n_points']} points**"
        parts += [f"### {name}", "", f"{t['notes']}. {complete}; seeds {t['seeds']}; "
                  f"{t['cpu_hours']:.2f} CPU-hours; made by labkit {', '.join(t['commits'])}.", "",
                  _table_markdown(t["rows"], name.startswith("dose")), ""]
        summary = {"dose": dose_summary, "shift": shift_summary, "labels": label_summary}[PLANS[name].regime]
        parts += summary(t["rows"])
        if name in figures:
            parts += [f"![{name}]({figures[name].name})", ""]
    if nmnist_section(out, PLANS[NMNIST_PLAN]):  # Table I's second column: its own file, which the Table I report reads
        write_nmnist_report(out, PLANS[NMNIST_PLAN])
        parts += [f"Table I's second column, on simulated N-MNIST, is written to `{NMNIST_PLAN}/report.md` beside this "
                  "file, and the Table I report places it after its table.", ""]
    path = out / "report.md"
    write_text(path, "\n".join(parts) + "\n")
    return path
