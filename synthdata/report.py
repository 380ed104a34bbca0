"""The run report (``report.json``): pydantic models, extended by the scoring sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from synthdata.gate import GateResult


class Section(BaseModel):
    """One scoring section: headline figures, [0, 1] scores (higher is better), tidy details."""

    figures: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float | None] = Field(default_factory=dict)
    details: list[dict[str, Any]] = Field(default_factory=list)
    reference: dict[str, Any] = Field(
        default_factory=dict,
        description="The same figures for holdout vs train: what a perfect generator scores.",
    )
    error: str | None = Field(
        None, description="Why the whole section could not be scored (the gate then fails).")


class PrivacySection(Section):
    """The privacy section: measured leakage, plus the model's differential privacy ledger."""

    dp: dict[str, Any] | None = Field(
        None, description="The model's differential privacy guarantee: {epsilon, delta, "
        "mechanism, accountant, spent: [{step, epsilon, delta, mechanism}]}; None when the "
        "model is not differentially private.")


class BiasSection(Section):
    """The bias section: figures per sensitive column (or ``a*b`` intersection) plus flags."""

    flags: list[dict[str, Any]] = Field(
        default_factory=list,
        description="{column, group, check, real, synth, tolerance, message, change, severity}",
    )
    skipped: list[dict[str, Any]] = Field(
        default_factory=list, description="Groups too small for a check, with their sizes."
    )
    settings: dict[str, Any] = Field(default_factory=dict)


class RunInfo(BaseModel):
    """What was run. ``evaluate`` scores given tables, so it has no synthesizer of its own."""

    command: str = Field("run", description="run | evaluate")
    table: str
    schema_name: str
    synthesizer: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int
    device: str | None = None
    holdout_fraction: float | None = None
    n_rows_input: int | None = None
    n_rows_train: int
    n_rows_holdout: int
    n_rows_synthetic: int
    format: str | None = None
    started_at: str
    duration_seconds: float
    execution: dict[str, Any] = Field(
        default_factory=lambda: {"engine": "local", "workers": 1},
        description="Where the parallel work ran: engine (local | ray), workers, address.")
    dataset: dict[str, Any] | None = Field(
        None, description="run on a Parquet dataset folder: files, units (the tasks of its "
        "streamed passes: consecutive row groups of up to 1,048,576 rows, or one bigger "
        "group), rows, rows_train, "
        "rows_holdout, split, rows_seen (rows the synthesizer read), streamed, "
        "fit_sample_rows, scored_rows {train, holdout, synthetic}, export.")


class BalanceSection(BaseModel):
    """What ``balance`` planned, generated and measured."""

    target: str
    ratio: float | None = None
    counts_requested: dict[str, int] | None = None
    plan: dict[str, int] = Field(default_factory=dict)
    class_counts_before: dict[str, int] = Field(default_factory=dict)
    class_counts_after: dict[str, int] = Field(default_factory=dict)
    ratio_after: float | None = None
    generation: dict[str, Any] = Field(
        default_factory=dict, description="Per class: rows, seconds, rows_per_second, drawn, "
        "method.")
    comparison: list[dict[str, Any]] = Field(
        default_factory=list, description="real / real+synthetic / real+SMOTE / class weights "
        "scored on the holdout.")
    verdict: str | None = None
    n_seeds: int


class AugmentSection(BaseModel):
    """What ``augment`` added."""

    n_rows_added: int
    generation: dict[str, Any] = Field(default_factory=dict)


class Report(BaseModel):
    """``report.json``: typed from the moment it is built until it is written."""

    synthdata_version: str
    run: RunInfo
    fidelity: Section
    privacy: PrivacySection | None = None
    bias: BiasSection | None = None
    gate: GateResult | None = Field(
        None, description="check_gate's result: passed, failures, and any --force override.")
    pii: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    balance: BalanceSection | None = None
    augment: AugmentSection | None = None
    model: dict[str, Any] = Field(
        default_factory=dict, description="What the synthesizer learnt that a reader can "
        "check, e.g. network: [{column, parents}] of a Bayesian network.")
    candidates: list[dict[str, Any]] | None = Field(
        None, description="run --synthesizer auto: every candidate fitted (synthesizer, seed, "
        "params, combined_score, section_means, figures, gate verdict, seconds, chosen).")

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON written to ``report.json`` (sections a command does not make are left out)."""
        out = self.model_dump(mode="json")
        for optional in ("balance", "augment", "candidates"):
            if out[optional] is None:
                del out[optional]
        if out["run"]["dataset"] is None:
            del out["run"]["dataset"]
        return out


# ---- HTML -------------------------------------------------------------------------------------
# One self-contained file: inline CSS and inline SVG plots, no script, no network. Every value
# that can come from the data (column names, categories, group labels, messages, notes) goes
# through _e (html.escape with quotes), in text and in attributes alike.

_REAL, _SYNTH, _HOLD = "#4a6fa5", "#e07a3f", "#6a9f58"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;background:#fff;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
td,th{border:1px solid #ddd;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} .num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{padding:1rem 1.2rem;border-radius:6px;font-size:1.15rem;margin:1rem 0}
.pass{background:#e5f4e3;border:2px solid #4b9a43}
.fail{background:#fbe4e1;border:2px solid #c0392b}
.forced{background:#fff3d6;border:2px solid #d39e00}
.grid{display:flex;flex-wrap:wrap;gap:1rem} .plot{border:1px solid #eee;padding:.4rem}
.plot h4{margin:.1rem 0 .3rem 0;font-size:.9rem} .muted{color:#666;font-size:.9rem}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .8rem}
.block{color:#c0392b;font-weight:600} .warn{color:#a06d00;font-weight:600}
"""


def _e(value: Any) -> str:
    import html

    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return _e(value if value is not None else "n/a")
    if isinstance(value, int | float):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return _e(value)


def _bars(title: str, labels: list[str], series: list[tuple[str, str, list[float]]],
          width: int = 330, height: int = 150, percent: bool = True) -> str:
    """A grouped bar chart as inline SVG (labels escaped, long ones shortened)."""
    n = max(1, len(labels))
    top = max([max(v, default=0) for _, _, v in series] + [1e-12])
    left, bottom, plot_h = 34, 38, height - 50
    slot = (width - left - 6) / n
    bar = max(1.0, slot / (len(series) + 0.6))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(title)}">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
             'stroke="#999"/>',
             f'<text x="2" y="12" font-size="9" fill="#666">'
             f'{_e(f"{top * 100:.0f} %" if percent else f"{top:.3g}")}</text>']
    for i, label in enumerate(labels):
        for j, (_, color, values) in enumerate(series):
            v = values[i] if i < len(values) else 0
            h = plot_h * (v / top)
            x = left + i * slot + j * bar + 1
            parts.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{color}"><title>{_e(label)}: '
                         f'{_e(f"{v:.3f}")}</title></rect>')
        if n <= 12 or i % max(1, n // 8) == 0:
            short = label if len(label) <= 10 else label[:9] + "…"
            x = left + i * slot + slot / 2
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 12}" font-size="9" '
                         f'text-anchor="end" transform="rotate(-35 {x:.1f} '
                         f'{height - bottom + 12})">{_e(short)}</text>')
    parts.append("</svg>")
    return f'<div class="plot"><h4>{_e(title)}</h4>{"".join(parts)}</div>'


def _heatmap(names: list[str], cells: dict[tuple[str, str], float]) -> str:
    size = 16 if len(names) <= 20 else 10
    left = 110
    width = left + size * len(names) + 10
    height = left + size * len(names) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img" aria-label="pair trend differences">']
    for i, name in enumerate(names):
        short = name if len(name) <= 16 else name[:15] + "…"
        parts.append(f'<text x="{left - 4}" y="{left + i * size + size * 0.75}" font-size="9" '
                     f'text-anchor="end">{_e(short)}</text>')
        x = left + i * size + size * 0.7
        parts.append(f'<text x="{x}" y="{left - 4}" font-size="9" '
                     f'transform="rotate(-60 {x} {left - 4})">{_e(short)}</text>')
    for (a, b), diff in cells.items():
        if a not in names or b not in names:
            continue
        for i, j in ((names.index(a), names.index(b)), (names.index(b), names.index(a))):
            shade = int(255 - min(1.0, diff * 2) * 200)
            parts.append(f'<rect x="{left + j * size}" y="{left + i * size}" width="{size}" '
                         f'height="{size}" fill="rgb(255,{shade},{shade})" stroke="#fff">'
                         f'<title>{_e(a)} × {_e(b)}: {diff:.3f}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    out = ["<table><tr>", *[f"<th>{_e(h)}</th>" for h in head], "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


_FIDELITY_TEXT = {
    "column_shapes": "How closely each synthetic column's distribution matches the real one "
                     "(sdmetrics KS / TV complement; 1 = identical).",
    "column_pair_trends": "How well relations between pairs of columns are kept (sdmetrics "
                          "correlation / contingency similarity; 1 = identical).",
    "category_coverage": "Share of real categories that appear in the synthetic rows "
                         "(low = categories were dropped).",
    "range_coverage": "Share of the real value range (20 quantile bins) the synthetic rows "
                      "reach.",
    "missing_rate_similarity": "How closely missing-value rates match (1 = identical).",
    "detection_auc": "How well a classifier tells synthetic rows from real ones (0.5 = it "
                     "cannot; 1 = always).",
    "tstr": "A model trained on synthetic rows, tested on real holdout rows.",
    "trtr": "The same model trained on real rows (the yardstick for tstr).",
}
_PRIVACY_TEXT = {
    "dcr_share": ("Share of synthetic rows closer to a training row than to a holdout row. "
                  "0.5 = no sign of copying; 0.64 = about 30 % of cells copied."),
    "exact_copy_rate": "Synthetic rows identical to a training row (compare with the holdout's "
                       "own rate of natural duplicates).",
    "exact_copy_rate_holdout": "Holdout rows identical to a training row: the natural rate.",
    "nndr_ratio": "Nearest/second-nearest distance ratio to train vs to holdout (1 = ideal).",
    "mia_auc": "How well an attacker tells who was in the training data (0.5 = cannot).",
    "mia_tpr_at_1pct_fpr": "Attacker's hit rate when allowed 1 % false alarms (0.01 = none).",
    "singling_out_risk": "Risk that an attacker isolates one real person (0 = none).",
    "linkability_risk": "Risk of linking two halves of a person's record (0 = none).",
}


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (verdict first; every data value escaped)."""
    run = report.get("run", {})
    gate = report.get("gate") or {}
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>synthdata report: {_e(run.get('schema_name', ''))}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>synthdata report: {_e(run.get('schema_name', ''))}</h1>",
             f"<p class='muted'>{_e(run.get('command', 'run'))} of {_e(run.get('table', ''))}"
             f" · synthesizer {_e(run.get('synthesizer') or 'n/a')} · seed "
             f"{_e(run.get('seed'))} · {_e(run.get('n_rows_train'))} train / "
             f"{_e(run.get('n_rows_holdout'))} holdout / {_e(run.get('n_rows_synthetic'))} "
             f"synthetic rows · {_e(run.get('started_at', ''))} · synthdata "
             f"{_e(report.get('synthdata_version', ''))}</p>"]
    # ---- verdict
    if gate:
        if not gate.get("enabled", True):
            parts.append("<div class='verdict forced'>Gate disabled in the schema: no export "
                         "decision was made.</div>")
        elif gate.get("passed"):
            parts.append(f"<div class='verdict pass'><b>PASSED</b>: all "
                         f"{len(gate.get('checked', []))} checks are within their bounds; the "
                         "synthetic table was exported.</div>")
        else:
            forced = gate.get("forced")
            override = gate.get("override") or {}
            parts.append(
                f"<div class='verdict {'forced' if forced else 'fail'}'><b>FAILED</b>: "
                f"{len(gate.get('failures', []))} check(s) out of bounds. "
                + (f"Exported anyway with --force by {_e(override.get('by'))} at "
                   f"{_e(override.get('at'))} (recorded in manifest.json)."
                   if forced else "No synthetic table was written.") + "</div>")
            parts.append(_table(["check", "value", "bound", "what it means"], [
                [_e(f["check"]), _num(f.get("value")), _num(f.get("bound")), _e(f["message"])]
                for f in gate.get("failures", [])]))
        if gate.get("skipped"):
            parts.append(f"<p class='muted'>Not applicable or no evidence either way: "
                         f"{_e(', '.join(gate['skipped']))}.</p>")
    for note in report.get("notes") or []:
        parts.append(f"<p class='muted'>Note: {_e(note)}</p>")
    parts.append(_balance_html(report.get("balance") or {}))
    parts.append(_candidates_html(report.get("candidates") or []))
    parts.append(_fidelity_html(report.get("fidelity") or {}))
    parts.append(_privacy_html(report.get("privacy") or {}))
    parts.append(_network_html((report.get("model") or {}).get("network") or []))
    parts.append(_bias_html(report.get("bias") or {}))
    if report.get("pii"):
        parts.append("<h2>Personal data columns</h2><p>These columns never reached the "
                     "synthesizer; their output values were generated afresh.</p>")
        parts.append(_table(["column", "handling"], [
            [_e(p.get("column")), _e(f"{p.get('strategy')}: {p.get('note') or ''}")]
            for p in report["pii"]]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _candidates_html(candidates: list[dict[str, Any]]) -> str:
    if not candidates:
        return ""
    names = ("column_shapes", "column_pair_trends", "detection_auc", "ml_efficacy_skill",
             "dcr_share", "mia_auc")
    rows = []
    for c in candidates:
        gate = c.get("gate") or {}
        figures = c.get("figures") or {}
        rows.append([
            ("&#9733; " if c.get("chosen") else "") + _e(c.get("synthesizer")),
            _e(c.get("seed")), _num(c.get("combined_score"), 4),
            *[_num(figures.get(n)) for n in names],
            "passes" if gate.get("passed") else _e("fails: " + ", ".join(
                gate.get("failures") or [])),
            _num((c.get("seconds") or {}).get("fit"), 1)])
    return ("<h2>Candidates (--synthesizer auto)</h2><p>Each candidate was fitted on the same "
            "training rows and scored on the same holdout; the chosen one (&#9733;) has the "
            "highest combined score (the mean of the fidelity, privacy and bias section "
            "means) among those that pass the gate. This report describes it.</p>"
            + _table(["synthesizer", "seed", "combined", *names, "gate", "fit s"], rows))


def _figure_rows(figures: dict[str, Any], reference: dict[str, Any],
                 texts: dict[str, str]) -> list[list[str]]:
    rows = []
    for key, text in texts.items():
        if key in figures and not isinstance(figures[key], dict | list):
            ref = reference.get(key)
            rows.append([_e(key), f"<span class='num'>{_num(figures[key])}</span>",
                         _num(ref) if ref is not None else "", _e(text)])
    return rows


def _fidelity_html(section: dict[str, Any]) -> str:
    figures, reference = section.get("figures", {}), section.get("reference", {})
    out = ["<h2>Fidelity: can the synthetic table stand in for the real one?</h2>",
           "<p>Each figure compares the synthetic rows with the training rows; the reference "
           "column gives the same figure for real holdout rows, i.e. what a perfect generator "
           "scores.</p>",
           _table(["figure", "synthetic", "reference (holdout)", "what it means"],
                  _figure_rows(figures, reference, _FIDELITY_TEXT))]
    top = figures.get("detection_top_features") or []
    if top:
        out.append("<p>Columns that give the synthetic rows away most: "
                   + ", ".join(f"{_e(t['column'])} ({t['auc_drop']:.3f})" for t in top)
                   + ".</p>")
    dists = [d for d in section.get("details", []) if d.get("metric") == "Distribution"]
    if dists:
        out.append("<h3>Real vs synthetic distribution per column</h3>"
                   f"<p class='legend'><span style='background:{_REAL}'></span>real (train)"
                   f"<span style='background:{_SYNTH}'></span>synthetic</p><div class='grid'>")
        for d in dists:
            out.append(_bars(f"{d['columns'][0]} (similarity {d['value']:.2f})",
                             [str(b) for b in d["bins"]],
                             [("real", _REAL, d["real"]), ("synth", _SYNTH, d["synth"])]))
        out.append("</div>")
    pairs = {(d["columns"][0], d["columns"][1]): 1.0 - d["value"]
             for d in section.get("details", [])
             if len(d.get("columns", [])) == 2 and d.get("value") is not None
             and d.get("metric") in ("CorrelationSimilarity", "ContingencySimilarity")}
    if pairs:
        names = sorted({c for d in section.get("details", []) if len(d.get("columns", [])) == 2
                        and d.get("metric") in ("CorrelationSimilarity", "ContingencySimilarity")
                        for c in d["columns"]})
        out.append("<h3>Pair-trend differences</h3><p>1 − sdmetrics similarity per column "
                   "pair: white = relation kept, red = relation lost or distorted; empty = "
                   "not scored (sdmetrics skips pairs whose real columns are barely "
                   "related).</p>")
        out.append(_heatmap(names, pairs))
    return "".join(out)


def _dp_html(dp: dict[str, Any] | None) -> str:
    """The differential privacy guarantee in plain words, with every spend of the ledger."""
    import math

    if not dp:
        return ("<p class='muted'>Not differentially private: the figures below are measured "
                "against known attacks, not guaranteed against any attack.</p>")
    epsilon, delta = float(dp.get("epsilon", 0.0)), float(dp.get("delta", 0.0))
    factor = math.exp(epsilon) if epsilon < 700 else math.inf
    out = [f"<p><b>Differentially private</b> ({_e(dp.get('mechanism'))}; "
           f"{_e(dp.get('accountant'))}): ε = {_e(f'{epsilon:.3g}')}, δ = "
           f"{_e(f'{delta:.2g}')}. Any one person's row changes the probability of any output "
           f"(the model and every synthetic row drawn from it) by at most a factor "
           f"e^ε = {_e(f'{factor:.3g}')}" + (f", except with probability δ = "
                                             f"{_e(f'{delta:.2g}')}" if delta else "")
           + ", whatever attack comes next"
           + (f" (neighbouring tables: {_e(dp['neighbours'])})" if dp.get("neighbours") else "")
           + ". The scores in this report read the real table and are for the data owner; "
           "they are not covered.</p>"]
    out.append(_table(["what read the data", "ε", "δ", "mechanism"], [
        [_e(s.get("step")), _num(s.get("epsilon")), _e(f"{float(s.get('delta') or 0):.2g}"),
         _e(s.get("mechanism"))] for s in dp.get("spent") or []]))
    return "".join(out)


def _network_html(network: list[dict[str, Any]]) -> str:
    """The learnt network as a small layered drawing (parents above their children)."""
    if not network:
        return ""
    parents = {str(n["column"]): [str(p) for p in n.get("parents") or []] for n in network}
    depth: dict[str, int] = {}
    for node in parents:  # listed in generation order: parents come first
        depth[node] = 1 + max((depth.get(p, 0) for p in parents[node]), default=-1)
    layers: dict[int, list[str]] = {}
    for node, d in depth.items():
        layers.setdefault(d, []).append(node)
    box_w, box_h, gap_x, gap_y = 120, 24, 14, 46
    width = max(len(v) for v in layers.values()) * (box_w + gap_x) + gap_x
    height = len(layers) * (box_h + gap_y) + 10
    at = {}
    for d, nodes in layers.items():
        offset = (width - len(nodes) * (box_w + gap_x) + gap_x) / 2
        for i, node in enumerate(nodes):
            at[node] = (offset + i * (box_w + gap_x), 8 + d * (box_h + gap_y))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
           'role="img" aria-label="network between columns">',
           '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker>'
           '</defs>']
    for node, ps in parents.items():
        x, y = at[node]
        for p in ps:
            px, py = at[p]
            svg.append(f'<line x1="{px + box_w / 2:.0f}" y1="{py + box_h:.0f}" '
                       f'x2="{x + box_w / 2:.0f}" y2="{y:.0f}" stroke="#888" '
                       'marker-end="url(#arrow)"/>')
    for node, (x, y) in at.items():
        short = node if len(node) <= 18 else node[:17] + "…"
        svg.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="4" '
                   f'fill="#eef2f8" stroke="{_REAL}"><title>{_e(node)}</title></rect>'
                   f'<text x="{x + box_w / 2:.0f}" y="{y + 16:.0f}" font-size="11" '
                   f'text-anchor="middle">{_e(short)}</text>')
    svg.append("</svg>")
    return ("<h2>What the model learnt: the network between columns</h2><p>Each column is "
            "generated from the columns with an arrow into it (its parents); columns without "
            "parents are drawn from their own distribution.</p>"
            + _table(["column", "parents"], [[_e(c), _e(", ".join(ps) or "none")]
                                             for c, ps in parents.items()])
            + f'<div class="plot">{"".join(svg)}</div>')


def _privacy_html(section: dict[str, Any]) -> str:
    if not section:
        return ""
    figures = section.get("figures", {})
    out = ["<h2>Privacy: what does the synthetic table reveal about real people?</h2>",
           _dp_html(section.get("dp")),
           "<p>Measured against holdout rows the synthesizer never saw: a synthetic row is a "
           "leak only when it is closer to the training rows than fresh rows of the same "
           "population are.</p>",
           _table(["figure", "value", "", "what it means"],
                  _figure_rows(figures, {}, _PRIVACY_TEXT))]
    inference = figures.get("inference_risk") or {}
    if inference:
        out.append("<p>Inference risk per sensitive column (0 = the synthetic table does not "
                   "help guess it): " + ", ".join(f"{_e(k)} {_num(v)}"
                                                  for k, v in inference.items()) + ".</p>")
    if figures.get("untrustworthy_attacks"):
        out.append("<p class='muted'>Attacks no better than random guessing (no evidence either "
                   f"way): {_e(', '.join(figures['untrustworthy_attacks']))}.</p>")
    hist = next((d for d in section.get("details", []) if d.get("metric") == "DCRHistogram"),
                None)
    if hist:
        edges = hist["edges"]
        labels = [f"{edges[i]:.2f}" for i in range(len(edges) - 1)]
        total = max(1, sum(hist["synth_to_train"]))
        out.append("<h3>Distance of each synthetic row to its closest real row</h3>"
                   f"<p class='legend'><span style='background:{_REAL}'></span>to train"
                   f"<span style='background:{_HOLD}'></span>to holdout — the two should "
                   "overlap; a pile-up near 0 for train only means copied rows.</p>")
        out.append(_bars("DCR histogram", labels, [
            ("to train", _REAL, [c / total for c in hist["synth_to_train"]]),
            ("to holdout", _HOLD, [c / total for c in hist["synth_to_holdout"]])],
            width=640, height=180))
    return "".join(out)


def _bias_html(section: dict[str, Any]) -> str:
    if not section:
        return ""
    out = ["<h2>Bias: does the synthetic table keep, widen or hide unfairness?</h2>",
           "<p>Per sensitive column: group shares, the gap in positive-outcome rates between "
           "groups, and the equalized-odds gap of a model trained on each table. A flag needs "
           "a change beyond its tolerance that sampling noise does not explain.</p>"]
    rows = []
    for column, f in (section.get("figures") or {}).items():
        rows.append([_e(column)] + [_num(f.get(k)) for k in (
            "representation_tvd", "parity_gap_real", "parity_gap_synth", "eo_gap_real_model",
            "eo_gap_synth_model")])
    if rows:
        out.append(_table(["column", "group-share TVD", "parity gap real", "parity gap synth",
                           "EO gap (real-trained)", "EO gap (synth-trained)"], rows))
    flags = section.get("flags") or []
    if flags:
        out.append(_table(["severity", "column", "group", "check", "real", "synth", "message"],
                          [[f"<span class='{_e(f.get('severity'))}'>{_e(f.get('severity'))}"
                            "</span>", _e(f["column"]), _e(f["group"]), _e(f["check"]),
                            _num(f.get("real")), _num(f.get("synth")), _e(f["message"])]
                           for f in flags]))
    else:
        out.append("<p>No bias flags.</p>")
    rates: dict[str, dict[str, tuple[float, float]]] = {}
    for d in section.get("details", []):
        if d.get("metric") == "PositiveRate" and "*" not in d["columns"][0]:
            rates.setdefault(d["columns"][0], {})[d["group"]] = (d["real"], d["synth"])
    if rates:
        out.append("<h3>Positive-outcome rate per group</h3>"
                   f"<p class='legend'><span style='background:{_REAL}'></span>real"
                   f"<span style='background:{_SYNTH}'></span>synthetic</p><div class='grid'>")
        for column, groups in rates.items():
            labels = list(groups)
            out.append(_bars(column, labels, [
                ("real", _REAL, [groups[g][0] for g in labels]),
                ("synth", _SYNTH, [groups[g][1] for g in labels])]))
        out.append("</div>")
    if section.get("skipped"):
        out.append("<p class='muted'>Skipped as too small: " + "; ".join(
            f"{_e(s['column'])}={_e(s['group'])} ({_e(s.get('n_real', s.get('n_holdout')))} "
            "rows)" for s in section["skipped"][:30]) + "</p>")
    return "".join(out)


def _balance_html(section: dict[str, Any]) -> str:
    if not section:
        return ""
    out = ["<h2>Balance: did the synthetic rows help a model?</h2>",
           f"<p>Target {_e(section.get('target'))}: class counts "
           f"{_e(section.get('class_counts_before'))} → {_e(section.get('class_counts_after'))}"
           f" (minority/majority {_num(section.get('ratio_after'))}).</p>"]
    gen = section.get("generation") or {}
    if gen:
        out.append(_table(["class", "rows", "seconds", "rows/s", "drawn", "method"], [
            [_e(c), _num(g.get("rows")), _num(g.get("seconds")), _num(g.get("rows_per_second"),
                                                                      1),
             _num(g.get("drawn")), _e(g.get("method"))] for c, g in gen.items()]))
    rows = section.get("comparison") or []
    if rows:
        out.append("<p>Models trained on each option, tested on the real holdout (minority "
                   "class; mean ± standard deviation over seeds):</p>")
        body = []
        for r in rows:
            for model in ("hgb", "logreg"):
                m = r.get(model) or {}
                body.append([_e(r["option"]), _e(model)] + [
                    f"{_num(m[k]['mean'])} ± {_num(m[k]['std'])}" if m.get(k) else "n/a"
                    for k in ("recall", "precision", "f1", "pr_auc", "roc_auc")])
        out.append(_table(["option", "model", "recall", "precision", "F1", "PR-AUC",
                           "ROC-AUC"], body))
    if section.get("verdict"):
        out.append(f"<p><b>In plain words:</b> {_e(section['verdict'])}</p>")
    return "".join(out)
