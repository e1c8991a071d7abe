// Narrow a long list of checkboxes as the practitioner types (ADR 0014).
// The list is already the practitioner's own decrypted clients; nothing is fetched.
// Without JavaScript the search form posts ?q= and the server narrows the list.
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/\s+/g, " ").trim();
  }
  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    var list = document.getElementById(form.getAttribute("data-filters"));
    var input = form.querySelector("input[type=search]");
    if (!list || !input) { return; }
    var status = document.createElement("p");
    status.className = "help";
    status.setAttribute("role", "status");
    form.appendChild(status);
    function apply() {
      var wanted = fold(input.value);
      var shown = 0;
      list.querySelectorAll("label").forEach(function (label) {
        var box = label.querySelector("input");
        var hit = !wanted || fold(label.textContent).indexOf(wanted) !== -1 || (box && box.checked);
        var row = label.parentElement === list ? label : label.parentElement;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      status.textContent = wanted ? shown + " shown" : "";
    }
    input.addEventListener("input", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    apply();
  });
})();
