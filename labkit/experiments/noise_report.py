"""The report's noise-protocol section: where the noise enters, and which protocol gives the paper's figures.

Reads the files ``<dataset>/noise_protocols/<rule>_s<seed>.json`` that `scripts/noise_study.py`
writes (`labkit.experiments.noise_study`) and turns them into

* a table at σ = 0.3 (whole test set): one row per protocol, one column per model (mean ± standard
  deviation over seeds), the paired hybrid − BP differences with their 95 % intervals, and the
  paper's figures in the first row;
* a table of the whole sweep σ ∈ {0, 0.1, 0.2, 0.3, 0.5} per protocol and model (σ ≠ 0.3 on the
  study's subset of test digits);
* a verdict per protocol: does it give the paper's 88.4 % (BP) and 91.6 % (hybrid), and is the
  hybrid more robust than BP under it (paired seeds, `labkit.experiments.statistics.difference_verdict`)?

A lab figure "gives" a paper figure when they are within two standard deviations of one run's
accuracy: the spread between the lab's seeds and the sampling error of a test accuracy on the
digits measured, combined (the paper's figure is one run).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..foundation import paper
from ..foundation.io import read_json
from ..noise import NOISE_PROTOCOLS
from .claims import LABELS
from .statistics import difference_verdict, holm, paired_t_p, seed_stats, t_interval

__all__ = ["collect_noise_study", "control_results", "holm_effects", "noise_protocol_lines", "noise_protocol_tables", "paper_match"]

_RULES = ("bp", "sum", "adaptive", "ann", "stdp_only")
_SHORT = {"bp": "BP", "sum": "sum", "adaptive": "A-STDP", "ann": "ANN", "stdp_only": "STDP-only"}
_HYBRIDS = ("adaptive", "sum")


def collect_noise_study(folder: Path) -> dict:
    """``{rule: {protocol: {σ: {seed: (accuracy %, n_test)}}}}`` from the study files in ``folder``; ``{}`` if none."""
    study: dict = {}
    for path in sorted(Path(folder).glob("*.json")):
        record = read_json(path, what="noise study")
        for protocol, levels in record.get("protocols", {}).items():
            for sigma, piece in levels.items():
                study.setdefault(record["rule"], {}).setdefault(protocol, {}).setdefault(sigma, {})[
                    int(record["seed"])] = (100 * piece["accuracy"], int(piece["n_test"]))
    return study


def _cell(study: dict, rule: str, protocol: str, sigma: str) -> dict:
    values = study.get(rule, {}).get(protocol, {}).get(sigma, {})
    stats = seed_stats([acc for acc, _ in values.values()])
    stats["n_test"] = min((n for _, n in values.values()), default=0)
    stats["seeds"] = sorted(values)
    return stats


def _fmt(stats: dict) -> str:
    if not stats["n"]:
        return "—"
    if stats["n"] == 1:
        return f"{stats['mean']:.2f} (n=1)"
    return f"{stats['mean']:.2f} ± {stats['std']:.2f} (n={stats['n']})"


def paper_match(stats: dict, figure: float) -> bool | None:
    """Whether the lab's accuracy ``stats`` (a `seed_stats` record with ``n_test``) is within two standard
    deviations of one run of the paper's ``figure`` (%): seed spread and sampling error combined."""
    if not stats["n"]:
        return None
    p = min(max(stats["mean"] / 100, 0.0), 1.0)
    sampling = 100 * math.sqrt(p * (1 - p) / max(stats["n_test"], 1))
    return abs(stats["mean"] - figure) <= 2 * math.sqrt(stats["std"] ** 2 + sampling ** 2)


def _paired(study: dict, rule: str, protocol: str, sigma: str) -> dict:
    a = study.get(rule, {}).get(protocol, {}).get(sigma, {})
    b = study.get("bp", {}).get(protocol, {}).get(sigma, {})
    seeds = sorted(a.keys() & b.keys())
    diffs = [a[s][0] - b[s][0] for s in seeds]
    if not diffs:
        return {"n": 0, "seeds": [], "mean": None, "low": None, "high": None, "verdict": "not run"}
    level = sum(b[s][0] for s in seeds) / len(seeds)
    verdict, half = difference_verdict(diffs, level, n_test=min(b[s][1] for s in seeds))
    mean = sum(diffs) / len(diffs)
    return {"n": len(diffs), "seeds": seeds, "mean": mean, "low": mean - half, "high": mean + half,
            "verdict": verdict, "p": paired_t_p(diffs) if len(diffs) > 1 else None}


def holm_effects(verdicts: list[dict], alpha: float = 0.05) -> list[dict]:
    """The paired hybrid − BP comparisons of every protocol, Holm-corrected as one family (`statistics.holm` over
    the two-sided paired t-tests): ``[{"protocol", "rule", "mean", "low", "high", "p", "survives"}]``; each
    comparison's record in ``verdicts`` also gets ``"holm"``."""
    family = [(v["protocol"], rule, v["paired"][rule]) for v in verdicts for rule in _HYBRIDS
              if v["paired"][rule].get("p") is not None]
    rejected = holm([c["p"] for _, _, c in family], alpha)
    out = []
    for (protocol, rule, c), survives in zip(family, rejected):
        c["holm"] = survives
        out.append({"protocol": protocol, "rule": rule, "mean": c["mean"], "low": c["low"], "high": c["high"],
                    "p": c["p"], "survives": survives, "n": c["n"]})
    return out


def control_results(root: Path) -> list[Path]:
    """Files of the random-perturbation control (the plasticity study's ``results/plasticity/``), if any exist."""
    folder = Path(root)
    return sorted(p for p in folder.rglob("*") if p.is_file() and "random" in p.name.lower()) if folder.is_dir() else []


def _control_lines(control: list[Path], survivors: list[dict], root: Path | None) -> list[str]:
    """What the random-perturbation control says about the Holm-surviving hybrid effects: for each protocol, sum − BP
    and sum − control on the same seeds at the lab's η1, from the plasticity study's records that measured it."""
    records = [r for r in (read_json(p, what="campaign result") for p in _study_records(control))
               if isinstance(r, dict) and "noise_acc" in r and r.get("point", {}).get("eta1", 0.01) == 0.01]
    by = {}
    for r in records:
        by.setdefault(r["point"]["variant"], {})[r["point"]["seed"]] = r
    protocols = sorted({e["protocol"] for e in survivors})
    if not (by.get("bp") and by.get("sum") and by.get("random")) or not any(
            p in next(iter(by["sum"].values()))["noise_acc"] for p in protocols):
        seen = (" Random-perturbation runs exist so far only where they do not measure these effects ("
                + ", ".join(f"`{p.relative_to(root.parent)}`" for p in control[:2]) + (", …" if len(control) > 2 else "")
                + ": none under these noise protocols).") if control and root is not None else ""
        return ["- Whether these effects are STDP's, or what any small perturbation of the BP step of the same size "
                "would do, is **not yet known: control pending** (the plasticity study's random-perturbation rule, "
                "BP plus a random update with the STDP term's norm, on the same seeds, measured under these "
                "protocols)." + seen]
    epochs = next(iter(by["sum"].values())).get("epochs")
    lines = [f"- The control (the plasticity study's `{next(iter(by['sum'].values()))['plan']}` plan: BP, the "
             f"literal sum at η1 = 0.01 and BP plus a random update of the sum's STDP norm, same seeds, {epochs} "
             "epochs where the runs above trained 15):"]
    shows = False
    for p in protocols:
        seeds = sorted(set(by["bp"]) & set(by["sum"]) & set(by["random"]))
        if len(seeds) < 2 or p not in by["sum"][seeds[0]]["noise_acc"]:
            continue
        cols = {}
        for name, other in (("BP", "bp"), ("random control", "random")):
            d = [100 * (by["sum"][s]["noise_acc"][p] - by[other][s]["noise_acc"][p]) for s in seeds]
            ci = t_interval(d, 0.95)
            cols[name] = (ci["mean"], ci["low"], ci["high"])
        shows |= cols["BP"][1] > 0
        lines.append(f"  - under `{p}`: sum − BP {cols['BP'][0]:+.2f} (95 % {cols['BP'][1]:+.2f} to "
                     f"{cols['BP'][2]:+.2f}), sum − random control {cols['random control'][0]:+.2f} (95 % "
                     f"{cols['random control'][1]:+.2f} to {cols['random control'][2]:+.2f}), n = {len(seeds)}")
    lines.append("  → " + ("the effect shows at that length, and the control row says whether it is STDP's." if shows
                           else f"at {epochs} epochs the effect itself does not show, so the control cannot decide it: "
                                "**undecided** until the control is run at the 15 epochs of the runs above."))
    return lines


def _study_records(paths: list[Path]) -> list[Path]:
    """Every record of the plans whose random-control files are in ``paths`` (BP and the sum beside them)."""
    folders = sorted({p.parent for p in paths if p.suffix == ".json"})
    return [q for f in folders for q in sorted(f.glob("*.json"))]


def _interval(c: dict) -> str:
    if not c["n"]:
        return "—"
    return f"{c['mean']:+.2f} [{c['low']:+.2f}, {c['high']:+.2f}] (n={c['n']})"


def noise_protocol_tables(study: dict, sigma: float = paper.NOISE_SIGMA) -> dict:
    """The section's rows: ``"at_sigma"`` (protocol × model at ``sigma``, paired differences), ``"sweep"``
    (protocol × model × σ means) and ``"verdicts"`` (per protocol)."""
    key = f"{sigma:g}"
    hybrid_gain = paper.NOISE_ACCURACY["adaptive"] - paper.NOISE_ACCURACY["bp"]
    protocols = [p for p in NOISE_PROTOCOLS if any(p in study.get(rule, {}) for rule in _RULES)]
    at_sigma = [{"protocol": "paper (not stated)", **{_SHORT[r]: None for r in _RULES},
                 "BP": paper.NOISE_ACCURACY["bp"], "sum": paper.NOISE_ACCURACY["adaptive"],
                 "A-STDP": paper.NOISE_ACCURACY["adaptive"],
                 "A-STDP − BP [95%]": f"{hybrid_gain:+.2f} (one run)",
                 "sum − BP [95%]": "—"}]
    sweep, verdicts = [], []
    for protocol in protocols:
        cells = {rule: _cell(study, rule, protocol, key) for rule in _RULES}
        paired = {rule: _paired(study, rule, protocol, key) for rule in _HYBRIDS}
        at_sigma.append({"protocol": protocol, **{_SHORT[r]: _fmt(cells[r]) for r in _RULES},
                         "A-STDP − BP [95%]": _interval(paired["adaptive"]),
                         "sum − BP [95%]": _interval(paired["sum"])})
        levels = sorted({s for rule in _RULES for s in study.get(rule, {}).get(protocol, {})}, key=float)
        for rule in _RULES:
            if protocol in study.get(rule, {}):
                row = {"protocol": protocol, "model": _SHORT[rule]}
                for s in levels:
                    c = _cell(study, rule, protocol, s)
                    row[f"σ={s}"] = c["mean"]
                row["digits (σ≠0.3)"] = min((c["n_test"] for s in levels if s != key
                                             for c in [_cell(study, rule, protocol, s)] if c["n"]), default=None)
                sweep.append(row)
        verdicts.append({"protocol": protocol, "bp": cells["bp"], "adaptive": cells["adaptive"], "sum": cells["sum"],
                         "bp_match": paper_match(cells["bp"], paper.NOISE_ACCURACY["bp"]),
                         "hybrid_match": paper_match(cells["adaptive"], paper.NOISE_ACCURACY["adaptive"]),
                         "paired": paired})
    return {"at_sigma": at_sigma, "sweep": sweep, "verdicts": verdicts, "holm": holm_effects(verdicts)}


def _verdict_line(v: dict) -> str:
    bp, hyb = v["bp"], v["adaptive"]
    if not bp["n"]:
        return f"- `{v['protocol']}`: no BP run measured yet."
    said = {True: "matches", False: "does not match", None: "—"}
    parts = [f"BP {bp['mean']:.2f}% ({said[v['bp_match']]} the paper's {paper.NOISE_ACCURACY['bp']:.1f})"]
    if hyb["n"]:
        parts.append(f"A-STDP {hyb['mean']:.2f}% ({said[v['hybrid_match']]} {paper.NOISE_ACCURACY['adaptive']:.1f})")
    if v["sum"]["n"]:
        parts.append(f"sum {v['sum']['mean']:.2f}%")
    both = v["bp_match"] and v["hybrid_match"]
    gives = ("**gives the paper's figures**" if both else
             "gives the paper's BP figure only" if v["bp_match"] else
             "gives the paper's hybrid figure only" if v["hybrid_match"] else "**does not give the paper's figures**")
    robust = []
    for rule in _HYBRIDS:
        c = v["paired"][rule]
        if c["n"]:
            word = {"reproduced": "more robust than BP", "contradicted": "less robust than BP",
                    "not established": "not distinguishable from BP"}[c["verdict"]]
            robust.append(f"{LABELS[rule]} − BP {c['mean']:+.2f} points, 95 % interval {c['low']:+.2f} to "
                          f"{c['high']:+.2f} on {c['n']} paired seed{'s' * (c['n'] > 1)}: **{word}**")
    return (f"- `{v['protocol']}` ({NOISE_PROTOCOLS[v['protocol']][0]}): {', '.join(parts)}; it {gives}. "
            + ("; ".join(robust) + "." if robust else "No paired hybrid seeds yet."))


def noise_protocol_lines(folder: Path, markdown_table, control_root: Path | None = None) -> list[str]:
    """The report section (Markdown lines) from the study files in ``folder``; ``[]`` when there are none.
    ``markdown_table`` formats rows (the report's own formatter); ``control_root``: where the random-perturbation
    control's results would be (the plasticity study's folder)."""
    study = collect_noise_study(folder)
    if not study:
        return []
    t = noise_protocol_tables(study)
    subset = sorted({row["digits (σ≠0.3)"] for row in t["sweep"] if row["digits (σ≠0.3)"]})
    lines = ["## Noise robustness by protocol: where the noise enters", "",
             "The paper does not say where its Gaussian noise enters a network that reads spikes. Each protocol "
             "of `labkit.noise` is one answer (equations in its docstring); every finished run was measured under "
             "each (`scripts/noise_study.py`, files in `noise_protocols/`), with its own seed and readout. "
             "`pixel_clip` is the protocol of the table above (equal to the runs' own `noise_acc`).", "",
             f"Accuracy (%) at σ = {paper.NOISE_SIGMA} on all test digits, mean ± sd over seeds; the paired "
             "columns give hybrid − BP on the same seeds with the 95 % interval (Student's t; one seed: the "
             "sampling error).", "", markdown_table(t["at_sigma"]),
             "The whole sweep, mean over seeds (%); σ = 0.3 on all 10,000 test digits, the other levels on the "
             f"first {', '.join(map(str, subset)) or '—'} test digits (a fixed subset). `current` changes the "
             "encoding itself, so its σ = 0 is the clean image read as a direct current.", "",
             markdown_table(t["sweep"]), "Verdicts per protocol (a lab figure matches the paper's when they are "
             "within two standard deviations of one run: seed spread and sampling error combined):", ""]
    lines += [_verdict_line(v) for v in t["verdicts"]]
    matching = ", ".join(f"`{v['protocol']}`" for v in t["verdicts"] if v["bp_match"] and v["hybrid_match"])
    robust = ", ".join(f"`{v['protocol']}`" for v in t["verdicts"]
                       if v["paired"]["adaptive"]["verdict"] == "reproduced")
    figures = f"{paper.NOISE_ACCURACY['bp']:.1f} / {paper.NOISE_ACCURACY['adaptive']:.1f}"
    compared = sum(v["paired"][rule]["n"] > 0 for v in t["verdicts"] for rule in _HYBRIDS)
    gain = paper.NOISE_ACCURACY["adaptive"] - paper.NOISE_ACCURACY["bp"]
    lines += ["", f"- In short: the paper's {figures} (BP / hybrid) come out under {matching or 'no protocol'}; "
                  f"the A-STDP hybrid is more robust than BP under {robust or 'none of them'}."]
    survivors = [e for e in t["holm"] if e["survives"]]
    if compared > 1:
        lines.append(f"- {compared} paired comparisons at 95 % each: by chance alone about one in twenty has an "
                     f"interval that excludes zero. Corrected as one family (Holm, family-wise 5 %, two-sided paired "
                     f"t-tests), {len(survivors)} survive" + (":" if survivors else "."))
        lines += [f"  - {LABELS[e['rule']]} − BP under `{e['protocol']}`: {e['mean']:+.2f} points, 95 % interval "
                  f"{e['low']:+.2f} to {e['high']:+.2f} (n = {e['n']}), p = {e['p']:.1e} → **hybrid effect confirmed "
                  f"(Holm)**; smaller than the paper's {gain:+.1f} under its (unstated) protocol." for e in survivors]
    if survivors:
        control = control_results(control_root) if control_root is not None else []
        lines += _control_lines(control, survivors, control_root)
    return lines + [""]
