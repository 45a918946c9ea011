/* Change lists on a phone: each cell gets its column's header as data-label (admin.css shows it as
   "label: value" in a card); the "筛选" button opens the filter panel above the list. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const table = document.getElementById("result_list");
  if (table) {
    const headers = Array.from(table.querySelectorAll("thead th")).map(function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.from(row.children).forEach(function (cell, index) {
        if (headers[index] && !cell.classList.contains("action-checkbox")) {
          cell.setAttribute("data-label", headers[index]);
        }
      });
    });
  }
  const toggle = document.querySelector(".portal-filter-toggle");
  const changelist = document.getElementById("changelist");
  if (toggle && changelist) {
    toggle.addEventListener("click", function () {
      const open = changelist.classList.toggle("portal-filters-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        const panel = document.getElementById("changelist-filter");
        if (panel) panel.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    });
  }
});
