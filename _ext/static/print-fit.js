// Single-page build for the PDF only (added by _ext/book_pdf.py): once MathJax has
// typeset, shrink every display equation wider than its column to fit (the PDF is
// printed at the same width, see tools/print_pdf.py), then flag the page as ready.
(function () {
  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (el) {
      el.style.zoom = "";
      var avail = el.parentElement.clientWidth;
      var need = el.scrollWidth;
      if (need > avail && avail > 0) {
        el.style.zoom = String(Math.max(0.45, (avail - 2) / need));
      }
    });
    document.documentElement.setAttribute("data-print-ready", "1");
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
    } else {
      setTimeout(whenTypeset, 50);
    }
  }
  window.addEventListener("load", whenTypeset);
})();
