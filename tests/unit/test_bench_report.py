"""bench/report.py: the machine-cores table and the scaling bound it derives."""

from bench import report


def _res(w1_cores):
    flow = {"w1": {"rows_per_s": 100_000, "rows_per_s_wall": 90_000, "peak_rss_mib": 100.0, "machine_cores_busy": w1_cores},
            "p2": {"rows_per_s": 120_000, "rows_per_s_wall": 100_000, "peak_rss_mib": 200.0, "machine_cores_busy": 1.9}}
    ceiling = {"1": {"rows_per_s": 60_000, "machine_cores_busy": 0.95},
               "2": {"rows_per_s": 96_000, "machine_cores_busy": 1.8}}
    return {"mode": "full", "started": "t", "machine": "2 CPUs", "cpus": 2, "shards": 2,
            "incremental": {"insert": {"describe": "d", "rows": 10, "flow": flow, "ceiling": ceiling, "ceiling_load": {},
                                       "ratio": {"w1": 1.04, "p2": 1.25}, "target_equal": True}}}


def test_the_scaling_bound_is_the_cores_the_first_process_left_idle():
    md = report.markdown(_res(1.6))
    # p2/w1 = 1.2; bound 2 / 1.6 = 1.25; the goal asks 0.9 x 96,000 / 60,000 = 1.44
    assert "| insert | 1.60 | 1.90 | 0.95 | 1.80 | - | 1.20 | 1.25 | 1.44 |" in md


def test_no_cores_table_without_samples():
    assert "Whole-machine cores busy" not in report.markdown(_res(None) | {"incremental": {}})
    res = _res(None)
    for x in list(res["incremental"]["insert"]["flow"].values()) + list(res["incremental"]["insert"]["ceiling"].values()):
        x.pop("machine_cores_busy")
    assert "Whole-machine cores busy" not in report.markdown(res)
