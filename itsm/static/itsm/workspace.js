// Agent workspace: keyboard shortcuts, row cursor (j/k), bulk selection and the column chooser. No framework.
(function () {
  "use strict";

  function typing(target) {
    const tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function rows() {
    return Array.from(document.querySelectorAll("table[data-rows] tbody tr[data-url]"));
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    let index = list.findIndex((row) => row.classList.contains("is-current"));
    if (index >= 0) list[index].classList.remove("is-current");
    index = Math.max(0, Math.min(list.length - 1, index < 0 ? 0 : index + step));
    list[index].classList.add("is-current");
    list[index].scrollIntoView({ block: "nearest" });
  }

  function current() {
    return document.querySelector("table[data-rows] tbody tr.is-current");
  }

  function toggleHelp(show) {
    const help = document.getElementById("kbd-help");
    if (help) help.hidden = show === undefined ? !help.hidden : !show;
  }

  let pendingG = false;

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      toggleHelp(false);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target.closest("#composer")) {
      event.target.closest("form").requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (pendingG) {
      pendingG = false;
      if (event.key === "d") { window.location.href = "/workspace/dashboard/"; return; }
      if (event.key === "m") { window.location.href = "/workspace/tickets/?queue=mine"; return; }
    }
    switch (event.key) {
      case "/": {
        const search = document.getElementById("global-search");
        if (search) { event.preventDefault(); search.focus(); search.select(); }
        break;
      }
      case "?":
        event.preventDefault();
        toggleHelp();
        break;
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "o":
      case "Enter": {
        const row = current();
        if (row) window.location.href = row.dataset.url;
        break;
      }
      case "x": {
        const row = current();
        const box = row && row.querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
      case "c": {
        const body = document.querySelector("#composer textarea");
        if (body) { event.preventDefault(); body.focus(); body.scrollIntoView({ block: "center" }); }
        break;
      }
      case "a": {
        const form = document.getElementById("assign-me-form");
        if (form) form.requestSubmit();
        break;
      }
      case "g":
        pendingG = true;
        setTimeout(() => { pendingG = false; }, 1000);
        break;
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-close-help]") || event.target.id === "kbd-help") toggleHelp(false);
  });

  // Bulk selection: the count, select-all, and the bar's state.
  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.id === "select-all") {
      document.querySelectorAll("#ticket-grid tbody input[name=ids]").forEach((box) => { box.checked = target.checked; });
    }
    if (target.id === "select-all" || target.name === "ids") {
      const n = document.querySelectorAll("#ticket-grid tbody input[name=ids]:checked").length;
      const count = document.getElementById("bulk-count");
      if (count) count.textContent = n;
      const bar = document.getElementById("bulk-form");
      if (bar) bar.classList.toggle("has-selection", n > 0);
    }
    if (target.classList.contains("col-toggle")) {
      const keys = Array.from(document.querySelectorAll(".col-toggle:checked")).map((box) => box.value);
      const input = document.getElementById("cols-input");
      if (input) input.value = keys.join(",");
    }
  }, true);  // capture: runs before htmx serialises the filter form on the same change event

  // A panel answers bad input with 400 and itself, naming the field (the watchers panel's unknown username):
  // htmx leaves 4xx answers unswapped by default, so swap those panels in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const detail = event.detail;
    if (detail.xhr.status === 400 && detail.target && detail.target.hasAttribute("data-swap-errors")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
