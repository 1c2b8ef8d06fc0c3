// Accessibility fixes for markup the book does not write itself: the theme's buttons, myst-nb's
// folded code, docutils' bibliography and the ipywidgets sliders. Each fixes a "serious" or
// "critical" finding of axe-core (label-content-name-mismatch, aria-required-children,
// aria-input-field-name), which tests/browser/test_reading.py runs on every page.
// Loaded on every page by _config.yml (html_js_files). Widgets render after load, so the fixes
// are re-applied whenever the DOM changes.
(function () {
  "use strict";
  var labelCount = 0;

  function fixTheme(root) {
    // pydata-sphinx-theme search button: aria-label="Search" but the visible text is
    // "Search Ctrl+K" (WCAG 2.5.3; axe checks visible text even when aria-hidden). Without the
    // aria-label its name is its text, "Search Ctrl + K" (⌘ on a Mac, as the theme rewrites it).
    root.querySelectorAll(".search-button__button").forEach(function (button) {
      if (button.querySelector(".search-button__default-text")) {
        button.removeAttribute("aria-label");
      }
    });
    // Theme switcher: aria-label="Color mode", but each icon carries a title ("Light", "Dark",
    // "System Settings"; Font Awesome's script, when loaded, makes it <svg><title>), text that is
    // not in the name. The icons are decoration; the button's name says what it does.
    var icons = ".theme-switch-button svg, .theme-switch-button i";
    root.querySelectorAll(icons).forEach(function (el) {
      el.setAttribute("aria-hidden", "true");
      el.removeAttribute("role");
      el.removeAttribute("aria-labelledby");
      el.removeAttribute("title");
      el.querySelectorAll("title").forEach(function (t) { t.remove(); });
    });
  }

  function fixHiddenCode(root) {
    // myst-nb folds code as <details><summary aria-label="Toggle hidden content"> whose visible
    // text is "Show code cell source" / "Hide code cell source": let the visible text be the name.
    root.querySelectorAll('details.hide > summary[aria-label="Toggle hidden content"]').forEach(
      function (summary) {
        summary.removeAttribute("aria-label");
      });
  }

  function fixBibliography(root) {
    // docutils writes <div role="list" class="citation-list"> whose entries carry the role
    // doc-biblioentry, deprecated in DPUB-ARIA 1.1 and so no longer a list item.
    root.querySelectorAll('.citation-list > [role="doc-biblioentry"]').forEach(function (el) {
      el.setAttribute("role", "listitem");
    });
  }

  function syncValueText(handle, readout) {
    // noUiSlider's aria-valuetext is the option *index* ("2"); say the option's label ("0.04").
    var text = readout && readout.textContent.trim();
    if (text && handle.getAttribute("aria-valuetext") !== text) {
      handle.setAttribute("aria-valuetext", text);
    }
  }

  function fixSliders(root) {
    // ipywidgets 8 sliders: the description is a <label class="widget-label"> tied to nothing,
    // and the noUiSlider handle (role="slider") has no accessible name.
    root.querySelectorAll(".widget-slider, .jupyter-widget-slider").forEach(function (widget) {
      var handle = widget.querySelector('[role="slider"]');
      if (!handle) return;
      var label = widget.querySelector(".widget-label");
      if (label && label.textContent.trim()) {
        if (!label.id) label.id = "widget-label-" + ++labelCount;
        handle.setAttribute("aria-labelledby", label.id);
      }
      // ipywidgets writes title="null" when no tooltip is set: a hover tooltip reading "null".
      if (label && label.getAttribute("title") === "null") label.removeAttribute("title");
      var readout = widget.querySelector(".widget-readout");
      syncValueText(handle, readout);
      if (!handle.dataset.a11yObserved) {
        handle.dataset.a11yObserved = "1";
        new MutationObserver(function () {
          syncValueText(handle, readout);
        }).observe(handle, { attributes: true, attributeFilter: ["aria-valuenow"] });
      }
    });
  }

  function fixAll() {
    fixTheme(document);
    fixHiddenCode(document);
    fixBibliography(document);
    fixSliders(document);
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      fixAll();
    });
  }

  function start() {
    fixAll();
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
