"""Train the rubrics' model conditions from the project's corpora (modelli/dati/<name>*.tsv).

    python -m qa.rubric.train_models [NAME...]

Each corpus is a TSV with header text/label/lang/group (one sentence or turn per row; the
``*_it_de.tsv`` and ``*_fr_en.tsv`` halves of a model are read together). The recipe is
qa/learn.py's; the result is modelli/<name>.joblib + <name>.card.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..learn import read_examples, train

MODELS = {
    "comprensione": "Agent checks or confirms understanding of the customer's need (criterion comprensione, 3.1).",
    "riepilogo": "Agent summarises what was discussed or agreed (criterion riepilogo, 2.6/3.5).",
    "prossimi_passi": "Agent says what happens next, who does what and when (criterion prossimi_passi, 3.5/5.4).",
    "empatia": "Agent acknowledges the customer's dissatisfaction with empathy (criterion empatia, 4.3).",
    "conferma_risoluzione": "Agent asks whether the request is resolved / anything else is needed (3.5).",
    "tipo_chiamata": "Call type (acquisizione/assistenza/fidelizzazione/riacquisizione) from the call's text.",
}


def corpus_files(name: str, data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.glob(f"{name}*.tsv") if p.stem == name or p.stem.startswith(name + "_"))


def main(argv: list[str] | None = None) -> int:
    from ..config import models_dir

    names = (argv if argv is not None else sys.argv[1:]) or list(MODELS)
    out = models_dir()
    data = out / "dati"
    for name in names:
        files = corpus_files(name, data)
        if not files:
            print(f"{name}: no corpus in {data}", file=sys.stderr)
            continue
        examples = [e for f in files for e in read_examples(f)]
        card = train(name, examples, description=MODELS.get(name, ""), out_dir=out,
                     extra_card={"training_files": [f"modelli/dati/{f.name}" for f in files]})
        cv = card["cross_validation"]
        print(f"{name}: {len(examples)} examples, cross-validated accuracy {cv['accuracy']:.3f} {cv['per_language']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
