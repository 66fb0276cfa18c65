"""benchmarks/run_performance.py's parts: `harness` (timing), `peers` (ours and the peers' models),
`speed_cases` and `memory` (what is measured), `reporting` (tables, chart, the documentation's section)."""
