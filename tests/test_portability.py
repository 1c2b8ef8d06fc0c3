"""The stored outputs must hold on every machine, so no notebook run may pin a BLAS kernel: only
`make test-portable` (scripts/test_portable.py) sets one, to imitate other CPUs."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = "OPENBLAS_CORETYPE"
# Every Makefile target that runs notebooks or the package's code.
RUN_TARGETS = ("book", "book-strict", "nbval", "refresh-notebooks", "lab", "bench", "unit",
               "serve")


def load_test_portable():
    spec = importlib.util.spec_from_file_location("test_portable",
                                                  ROOT / "scripts" / "test_portable.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up while it is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_no_makefile_target_that_runs_notebooks_pins_a_blas_kernel():
    # --dry-run prints every command (variables expanded) without running any
    commands = subprocess.run(["make", "--dry-run", "--always-make", *RUN_TARGETS], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    assert "pytest" in commands and "jupyter-book build" in commands   # the dry run saw them
    assert PIN not in commands


def test_only_the_portability_check_names_the_kernel_variable():
    sources = [ROOT / "Makefile", ROOT / ".ci" / "run", *(ROOT / "scripts").glob("*.py"),
               *(ROOT / "sgd_utils").rglob("*.py")]
    offenders = [str(path.relative_to(ROOT)) for path in sources
                 if path.name != "test_portable.py" and PIN in path.read_text(encoding="utf-8")]
    assert not offenders, f"{PIN} is set outside scripts/test_portable.py: {offenders}"


NOTEBOOKS = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("book/*.ipynb")])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_sets_the_kernel(path):
    code = [cell["source"] for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "code"]
    assert not any(PIN in "".join(source) for source in code)


def test_the_four_imitated_cpu_classes():
    module = load_test_portable()
    classes = [(c.kernel, c.threads, c.environment().get("NPY_DISABLE_CPU_FEATURES"))
               for c in module.CPU_CLASSES]
    assert classes == [("Haswell", 1, "AVX512_SPR AVX512_ICL X86_V4"),
                       ("SkylakeX", 1, None),
                       ("Sandybridge", 1, "AVX512_SPR AVX512_ICL X86_V4 X86_V3"),
                       ("Haswell", 2, "AVX512_SPR AVX512_ICL X86_V4")]
    environment = module.CPU_CLASSES[3].environment()
    assert environment[PIN] == "Haswell" and environment["OPENBLAS_NUM_THREADS"] == "2"


def test_a_kernel_the_cpu_cannot_run_is_skipped_with_the_reason(monkeypatch):
    module = load_test_portable()
    skylake = module.CPU_CLASSES[1]
    monkeypatch.setattr(module.platform, "machine", lambda: "x86_64")
    assert module.skip_reason(skylake, {"avx", "avx2", "fma"}) == (
        "this CPU lacks avx512f, avx512bw")
    monkeypatch.setattr(module.platform, "machine", lambda: "arm64")
    assert "do not exist on arm64" in module.skip_reason(skylake, set())


def test_a_kernel_openblas_ignores_is_skipped_not_trusted(monkeypatch):
    module = load_test_portable()
    monkeypatch.setattr(module.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(module, "loaded_kernel", lambda environment: "Zen")
    reason = module.skip_reason(module.CPU_CLASSES[0], {"avx", "avx2", "fma"})
    assert reason == "OpenBLAS ignored OPENBLAS_CORETYPE=Haswell (it loaded Zen)"
