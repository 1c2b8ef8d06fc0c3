// Typesets a page's formulas as they near the screen, a few at a time, so that the page stays
// responsive while MathJax works.
//
// MathJax's own lazy extension (ui/lazy) typesets only the formulas in view, but the first time it
// does, it compiles every formula of the page in one task: 400 formulas of chapter 10 took 240 ms
// of unbroken main-thread work after the first paint, over the book's 200 ms budget (issue 20).
// Here MathJax starts with nothing typeset (mathjax3_config: startup.typeset = false, in
// _config.yml) and this script hands it the formulas that come within LOOKAHEAD of the screen,
// at most BATCH per task, yielding to the browser between batches.
//
// Sphinx numbers equations in the HTML itself and the book defines no TeX macros, so formulas can
// be typeset in any order. Before printing, every formula is typeset (as ui/lazy does), and
// window.bookMaths.typesetAll() does the same for the browser tests, which check every formula.
// Loaded, deferred, by book/_ext/book_html.py on each page that has maths.
(function () {
  "use strict";
  var BATCH = 30;            // about 0.7 ms a formula: 20-30 ms a task
  var LOOKAHEAD = "400px";   // typeset a little ahead of the scroll, so no raw TeX shows
  var SELECTOR = ".math, .tex2jax_process, .mathjax_process, .output_area";
  var waiting = [];
  var queue = Promise.resolve();
  var observer = null;

  function nextTask() {
    return new Promise(function (resolve) { setTimeout(resolve, 0); });
  }

  function typesetWaiting() {
    // one chain of batches at a time: MathJax must not typeset two sets at once
    queue = queue.then(function loop() {
      if (!waiting.length) return undefined;
      var batch = waiting.splice(0, BATCH);
      return MathJax.typesetPromise(batch).then(nextTask).then(loop);
    }).catch(function (error) { console.warn("MathJax:", error); });
    return queue;
  }

  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll(SELECTOR), function (el) {
      return !el.dataset.bookMaths && !el.parentElement.closest(SELECTOR);
    });
  }

  function claim(elements) {
    elements.forEach(function (el) {
      el.dataset.bookMaths = "queued";
      if (observer) observer.unobserve(el);
      waiting.push(el);
    });
  }

  function typesetAll() {
    claim(pending());
    return typesetWaiting();
  }

  function start() {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
    MathJax.startup.promise.then(function () {
      if (!("IntersectionObserver" in window)) return typesetAll();
      observer = new IntersectionObserver(function (entries) {
        claim(entries.filter(function (e) { return e.isIntersecting; })
                     .map(function (e) { return e.target; }));
        typesetWaiting();
      }, {rootMargin: LOOKAHEAD + " 0px"});
      pending().forEach(function (el) { observer.observe(el); });
      // Printing shows every formula: typeset the rest synchronously before the print.
      window.addEventListener("beforeprint", function () {
        var rest = waiting.splice(0).concat(pending());
        rest.forEach(function (el) { el.dataset.bookMaths = "printed"; });
        if (rest.length) MathJax.typeset(rest);
      });
      return undefined;
    });
  }

  window.bookMaths = {typesetAll: typesetAll};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);   // after MathJax's deferred loader
  } else {
    start();
  }
})();
