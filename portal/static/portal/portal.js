/* Show-when rules of catalog forms, live in the page: a question wrapped in [data-show-when] shows only while the
   question it names has the given answer. Hidden questions are disabled, so they are neither required nor sent (the
   server applies the same rules). No dependencies. */
(function () {
  "use strict";

  function answers(form, name) {
    var values = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if (input.disabled) return;
      if (input.type === "checkbox" || input.type === "radio") {
        if (input.checked) values.push(input.value);
      } else if (input.tagName === "SELECT" && input.multiple) {
        Array.prototype.forEach.call(input.selectedOptions, function (o) { values.push(o.value); });
      } else if (input.value !== "") {
        values.push(input.value);
      }
    });
    return values;
  }

  function apply(form) {
    // Repeat until stable: a question may depend on one that itself depends on another.
    for (var pass = 0; pass < 5; pass++) {
      var changed = false;
      form.querySelectorAll("[data-show-when]").forEach(function (wrapper) {
        var controller = wrapper.getAttribute("data-show-when");
        var expected = (wrapper.getAttribute("data-show-equals") || "").toLowerCase();
        var visible = answers(form, controller).some(function (v) { return v.toLowerCase() === expected; });
        if (wrapper.hidden === visible) {
          wrapper.hidden = !visible;
          wrapper.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !visible; });
          changed = true;
        }
      });
      if (!changed) return;
    }
  }

  function init(root) {
    root.querySelectorAll("form[data-catalog-form]").forEach(function (form) {
      form.addEventListener("change", function () { apply(form); });
      form.addEventListener("input", function () { apply(form); });
      apply(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
