// Point the ipywidgets HTML manager at the copy served by this book instead of a CDN.
// Loaded after require.js and before embed-amd.js.
(function () {
  // The manager computes the URL of its font files from `__jupyter_widgets_assets_path__` (else
  // from its AMD module name, which 404s when served locally). Pages live at different depths, so
  // both paths are derived from this script's own URL: .../_static/vendor/widgets-config.js.
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.__jupyter_widgets_assets_path__ = here + "html-manager/dist/";
  if (window.require && window.require.config) {
    window.require.config({
      paths: { "@jupyter-widgets/html-manager/dist": here + "html-manager/dist" },
    });
  }
  // The manager typesets widget labels with MathJax 2's `MathJax.Hub.Queue`, which MathJax 3 (the
  // book's) lacks: every label then throws "Cannot read properties of undefined (reading 'Queue')".
  // Once MathJax 3 has replaced its configuration object (deferred scripts have run by
  // DOMContentLoaded, and this listener is added before the manager's), give it that one call.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (command) {
          var element = command[2];
          if (mathjax.typesetPromise) {
            mathjax.typesetPromise([element]);
          }
        },
      };
    }
  });
})();
