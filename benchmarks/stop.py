"""Stop benchmark: how long after Stop an AutoML search hands back a trained model (issue 17: "Stop keeps the best
so far within 5 s").

    python benchmarks/stop.py [--only diamonds jm1 titanic] [--after 15 40]

For each table, a 5-minute search (preset full, every core) is started on the app's own split and stopped
`--after` seconds in, as the Stop button does (Search.cancel). Measured:
- search: from Stop until the search has ended with its best candidate;
- train now: the winner trained as a stopped search trains it (once on all training rows: the search's folds
  scored it already);
- train before (the baseline, same winner, same run): trained as a finished search trains it, cross-validated
  again and then fitted;
- the held-out score of each (they are the same model, so they should match).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.automl import load  # noqa: E402
from workbench.automl import AutoMLSettings, Search, final_settings  # noqa: E402
from workbench.evaluation import PRIMARY  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.training import default_folds, train_experiment  # noqa: E402


def stopped(name: str, after: float) -> dict:
    frame, target, task = load(name)
    settings = AutoMLSettings(target, task, minutes=5, preset="full", folds=default_folds(len(frame)))
    search = Search(frame, Recipe(), settings, n_jobs=os.cpu_count() or 1)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(best=search.run()), daemon=True)
    runner.start()
    time.sleep(after)
    asked = time.perf_counter()
    search.cancel()
    runner.join()
    ended = time.perf_counter()
    best = outcome["best"]
    final, model = final_settings(settings, best)
    now = train_experiment(frame, Recipe(), final, model, cross_validate=False)
    trained = time.perf_counter()
    before = train_experiment(frame, Recipe(), final, model)
    metric = PRIMARY[task]
    return {"table": name, "rows": len(frame), "after": after, "winner": f"{best.source}: {best.name}"[:60],
            "search": ended - asked, "now": trained - ended, "before": time.perf_counter() - trained,
            "score_now": now.metrics[metric], "score_before": before.metrics[metric], "metric": metric}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["diamonds", "jm1", "titanic"])
    parser.add_argument("--after", nargs="*", type=float, default=[15, 40])
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'table':<10} {'rows':>6} {'stop at':>7} {'search':>7} {'train now':>9} {'before':>7} "
          f"{'Stop→model now':>14} {'before':>7}  {'score now = before':<22} winner")
    for name in args.only:
        for after in args.after:
            r = stopped(name, after)
            print(f"{r['table']:<10} {r['rows']:>6} {r['after']:>6.0f}s {r['search']:>6.1f}s {r['now']:>8.1f}s "
                  f"{r['before']:>6.1f}s {r['search'] + r['now']:>13.1f}s {r['search'] + r['before']:>6.1f}s  "
                  f"{r['metric']} {r['score_now']:.4f} = {r['score_before']:.4f}  {r['winner']}", flush=True)


if __name__ == "__main__":
    main()
