"""The paper's claims in miniature: the studies, their runs, and the report (for reproduce_paper.py).

Every pretraining and fine-tuning run is one of the example scripts
(run_pretraining.py, run_classifier.py, run_ner.py) started as a subprocess
with its flags: the code users train with, nothing special-cased. A finished
run leaves `result.json` (its command, its scores, its wall time) in its
folder under WORK_DIR; started again, the studies skip finished runs, so an
interrupted reproduction goes on where it stopped, and a run whose command
changed (other flags, or a changed checkpoint under it) is run afresh.

Modules: `catalog` (settings, models, tasks, studies), `runner` (one cached
script run), `reproduction` (the runs of the chosen studies), `verdicts` (the
rule), `plots` and `report` (REPORT.md).
"""

from paper_studies.catalog import STUDIES, Settings, Study, studies
from paper_studies.reproduction import Reproduction
from paper_studies.report import write_report
from paper_studies.runner import EXAMPLES, RunFailed
from paper_studies.verdicts import scores_of, selected_rate, summarize, verdict

__all__ = ["EXAMPLES", "Reproduction", "RunFailed", "STUDIES", "Settings", "Study", "scores_of", "selected_rate",
           "studies", "summarize", "verdict", "write_report"]
