"""Run every benchmark module (``bench_*.py``) and print the ratios.

    python benchmarks/run.py [substring]

Run through ``nox -s bench``, which installs the pinned peers.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from _harness import report

HERE = Path(__file__).parent


def main() -> None:
    sys.path.insert(0, str(HERE))
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    for path in sorted(HERE.glob("bench_*.py")):
        if wanted not in path.stem:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        title = module.__doc__.strip().splitlines()[0] if module.__doc__ else ""
        print(f"\n== {path.stem}: {title}")
        report(module.cases())


if __name__ == "__main__":
    main()
