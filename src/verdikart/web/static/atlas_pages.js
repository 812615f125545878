// Forms whose answer takes seconds (the scenario and watch pages, class "slow"): while the
// server computes, say so (the paragraph after the form) instead of a frozen page.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.slow").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.classList.add("busy");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
    });
  });
});
