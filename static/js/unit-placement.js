/* The unit add form: the kinds offered and the suggested code follow the chosen parent unit. */
"use strict";
(function ($) {
  $(function () {
    const form = document.getElementById("unit_form");
    const kind = document.getElementById("id_kind");
    const code = document.getElementById("id_code");
    const parent = document.getElementById("id_parent");
    if (!form || !kind || !parent || !/\/add\/$/.test(window.location.pathname)) {
      return;
    }
    const url = window.location.pathname.replace(/add\/$/, "placement/");
    const allKinds = Array.from(kind.options).map((option) => [option.value, option.text]);
    let codeTyped = false;
    let lastSuggested = code ? code.value : "";
    if (code) {
      code.addEventListener("input", () => { codeTyped = code.value !== lastSuggested; });
    }

    function refresh() {
      if (!parent.value) {
        return;
      }
      const query = new URLSearchParams({ parent: parent.value, kind: kind.value });
      fetch(`${url}?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((answer) => {
          if (!answer) {
            return;
          }
          const allowed = new Set(answer.kinds.map((pair) => pair[0]));
          const current = kind.value;
          kind.replaceChildren(
            ...allKinds
              .filter(([value]) => value === "" || allowed.has(value))
              .map(([value, text]) => new Option(text, value, false, value === current))
          );
          if (!allowed.has(current) && answer.kinds.length) {
            kind.value = answer.kinds[0][0];
          }
          if (code && !codeTyped && answer.code) {
            code.value = answer.code;
            lastSuggested = answer.code;
          }
        })
        .catch(() => {});
    }

    $(parent).on("change", refresh);
    kind.addEventListener("change", () => {
      if (!codeTyped) {
        refresh();
      }
    });
    refresh();
  });
})(django.jQuery);
