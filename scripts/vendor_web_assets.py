"""Fetch the book's browser assets from the npm registry so the web book loads nothing from a CDN.

The default Jupyter Book 1.x HTML loads MathJax, require.js and the ipywidgets HTML manager from
CDNs at page load, so a reader offline sees neither maths nor sliders. This script fetches pinned
versions with ``npm pack`` (the npm registry is the packages' canonical source), checks each tarball
against the registry's published sha512 ``integrity`` value, and unpacks the files the pages need
into ``book/web_assets/vendor/``, which ``_config.yml`` lists in ``html_static_path`` (copied to
``_build/html/_static/vendor/``).

Usage: ``python scripts/vendor_web_assets.py [--force]``. It does nothing when the manifest
already records the pinned versions. Writes are atomic: files are unpacked into a temporary folder
that replaces ``vendor/`` only once everything has been checked.
"""

import argparse
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from npm_tarball import npm_pack

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "book" / "web_assets" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"

# name -> (npm spec, registry sha512 integrity, files to keep relative to the package root,
#          folder under vendor/).
# Integrity values are those `npm view <spec> dist.integrity` prints.
PACKAGES = {
    "mathjax": (
        "mathjax@3.2.2",
        "sha512-"
        "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        # Not a combined bundle (1.2 MB with a MathML reader and a menu the book does not use):
        # the loader and the components _config.yml lists (TeX in, CHTML out, hidden MathML for
        # screen readers), about 0.76 MB, plus what they load lazily relative to their own URL:
        # fonts and the TeX extensions that rarer macros pull in. The menu and the rest of the
        # accessibility tools stay vendored for a reader who turns them on in the config.
        ["es5/startup.js", "es5/core.js", "es5/input/tex.js", "es5/output/chtml.js",
         "es5/output/chtml/fonts", "es5/input/tex/extensions", "es5/ui", "es5/a11y", "es5/sre",
         "LICENSE"],
    ),
    "requirejs": (
        "requirejs@2.3.8",
        "sha512-"
        "7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        ["require.js", "package.json"],
    ),
    "html-manager": (
        "@jupyter-widgets/html-manager@1.0.15",
        "sha512-"
        "5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        # embed-amd.js bundles the base and controls widgets; the fonts are Font Awesome's.
        ["dist/embed-amd.js", "dist/embed.js.LICENSE.txt", "dist/*.woff2", "dist/*.woff",
         "dist/*.ttf", "dist/*.eot", "dist/*.svg", "LICENSE"],
    ),
}


def pinned_versions():
    """What the manifest records: each package's spec and the files kept from it."""
    return {name: {"spec": spec, "files": keep} for name, (spec, _, keep) in PACKAGES.items()}


def unpack(tarball, keep, dest):
    """Extract the members of ``tarball`` under ``package/`` that match a pattern in ``keep``."""
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name).relative_to("package")
            if not any(rel.match(pattern) or rel.is_relative_to(pattern) for pattern in keep):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch even if already vendored")
    args = parser.parse_args(argv)
    if (not args.force and MANIFEST.exists()
            and json.loads(MANIFEST.read_text()) == pinned_versions()):
        print(f"vendor_web_assets: up to date in {VENDOR.relative_to(ROOT)}")
        return
    with tempfile.TemporaryDirectory(dir=VENDOR.parent) as tmp:
        staging = Path(tmp) / "vendor"
        for name, (spec, integrity, keep) in PACKAGES.items():
            tarball = npm_pack(spec, integrity, tmp, "vendor_web_assets")
            unpack(tarball, keep, staging / name)
            print(f"vendor_web_assets: {spec} ok ({integrity[:20]}...)")
        shutil.copy(ROOT / "book" / "web_assets" / "widgets-config.js",
                    staging / "widgets-config.js")
        (staging / "MANIFEST.json").write_text(json.dumps(pinned_versions(), indent=2) + "\n")
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        staging.rename(VENDOR)
    print(f"vendor_web_assets: wrote {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
