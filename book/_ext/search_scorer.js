// The book's search ranking and snippets (Sphinx's html_search_scorer: this file is copied into
// language_data.js, which the search page loads just before Sphinx's searchtools.js).
//
// Ranking. Sphinx scores a page whose title contains the query no higher than one of its section
// titles elsewhere, and not at all when the query is under half the title's length: a search for
// "momentum" listed the glossary and chapter 11 ("Staleness and momentum") above chapter 3,
// "Momentum and Nesterov". Here a page whose own title contains every word of the query comes
// first; Sphinx's order holds among the rest.
//
// Snippets. Sphinx cuts its snippet around the first occurrence of the query in the page's whole
// text, which for a chapter is its title and the page's table of contents, with the source's line
// breaks and indentation: "...f 3. Momentum and Nesterov Contents...". Here the snippet is cut
// from the page's prose (paragraphs, list items, definitions), with its white space collapsed.
var Scorer = {
  // Sphinx's defaults (searchtools.js only defines them when no Scorer exists).
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
  // More than any score Sphinx gives, so a matching page title outranks everything else.
  pageTitleMatch: 1000,

  queryWords: function () {
    var query = new URLSearchParams(window.location.search).get("q") || "";
    return query.toLowerCase().split(/\s+/).filter(function (word) { return word; });
  },

  score: function (result) {
    var title = String(result[1]), anchor = result[2], score = result[4];
    var pageTitle = title.split(" > ")[0].toLowerCase();
    var words = Scorer.queryWords();
    var aboutIt = !anchor && words.length > 0 && words.every(function (word) {
      return pageTitle.indexOf(word) >= 0;
    });
    return aboutIt ? score + Scorer.pageTitleMatch : score;
  },
};

document.addEventListener("DOMContentLoaded", function () {
  // Runs before Search.init (searchtools.js registers it later), which starts the search.
  if (typeof Search === "undefined") return;
  Search.htmlToText = function (htmlString, anchor) {
    var page = new DOMParser().parseFromString(htmlString, "text/html");
    var main = page.querySelector('[role="main"]');
    if (!main) return "";
    var scope = (anchor && main.querySelector(anchor)) || main;
    // Not prose: the page's buttons and contents, code, and the pilcrows of headings.
    scope.querySelectorAll(".headerlink, script, style, .cell_input, .bd-toc, nav, " +
                           ".bd-header-article, .header-article-items").forEach(
      function (element) { element.remove(); });
    var blocks = scope.querySelectorAll("p, li, dd, dt");
    var prose = blocks.length ? Array.prototype.map.call(blocks, function (el) {
      return el.textContent;
    }).join(" ") : scope.textContent;  // a glossary term or a caption: its own text
    // Inline maths as its TeX, without the \( \) delimiters: "rate (\\kappa - 1)/(\\kappa + 1)".
    return prose.replace(/\\[()]/g, "").replace(/\s+/g, " ").trim();
  };
});
