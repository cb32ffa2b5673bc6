"""Which OpenBLAS kernel runs: the second nbval pass must really use another one.

``make test`` runs every chapter twice under strict nbval: with the kernel OpenBLAS
picks for this CPU, and (tools/binder_check.sh) with ``OPENBLAS_CORETYPE`` set,
e.g. SandyBridge, which has no fused multiply-add and so rounds differently. This
test runs in both passes and fails if a requested kernel did not take effect
(an unknown name, or a numpy built without OpenBLAS's runtime kernel selection),
which would make the second pass prove nothing.
"""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info

# Names threadpoolctl reports for a requested OPENBLAS_CORETYPE, where they differ
# (measured with numpy 2.4's OpenBLAS: Prescott runs the kernel it calls Katmai).
REPORTED_AS = {"prescott": {"prescott", "katmai"}}


def openblas():
    np.ones((2, 2)) @ np.ones((2, 2))
    return [i for i in threadpool_info() if i["internal_api"] == "openblas"]


def test_requested_openblas_kernel_is_the_one_running():
    libs = openblas()
    assert libs, f"numpy does not use OpenBLAS here: {threadpool_info()}"
    running = {str(i.get("architecture")) for i in libs}
    wanted = os.environ.get("OPENBLAS_CORETYPE")
    if not wanted:
        pytest.skip(f"OPENBLAS_CORETYPE not set; OpenBLAS picked {running}")
    accepted = REPORTED_AS.get(wanted.lower(), {wanted.lower()})
    assert {r.lower() for r in running} <= accepted, (
        f"OPENBLAS_CORETYPE={wanted} requested but OpenBLAS runs {running}"
    )
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if threads:
        assert {i["num_threads"] for i in libs} == {int(threads)}
