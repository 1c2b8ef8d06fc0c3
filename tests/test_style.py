"""Style checks on the Python sources."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("sgd_utils", "tests", "benchmarks", "scripts", "book")
MAX_COLUMNS = 100


def test_no_python_line_is_wider_than_the_book():
    """The book shows package code (``literalinclude``) in code blocks about 100 columns wide, so a
    longer line scrolls sideways; tests, benchmarks and scripts keep to the same width, so code
    moved into the package already fits."""
    too_long = [
        f"{path.relative_to(ROOT)}:{number}: {len(line)} characters"
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > MAX_COLUMNS
    ]
    assert not too_long, f"lines over {MAX_COLUMNS} characters:\n" + "\n".join(too_long)
