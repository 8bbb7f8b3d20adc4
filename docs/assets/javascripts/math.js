// Typeset the page's math with the bundled KaTeX (no network), again after every
// instant-navigation page change.
function lossgenRenderMath() {
  if (typeof renderMathInElement !== "function") {
    return;
  }
  renderMathInElement(document.body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
}

if (typeof document$ !== "undefined") {
  document$.subscribe(lossgenRenderMath);
} else {
  document.addEventListener("DOMContentLoaded", lossgenRenderMath);
}
