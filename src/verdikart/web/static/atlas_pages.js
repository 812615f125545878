// The scenario form: while the server computes (a few seconds), say so instead of a frozen page.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("scenario-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    form.classList.add("busy");
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
  });
});
