// Product Ops Portal: shared behaviour for every page (no inline scripts: CSP forbids them).
(function () {
  "use strict";

  // "/" focuses the global search, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || document.activeElement.isContentEditable) return;
    var box = document.getElementById("global-search");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    var text = String(value);
    // Formula-injection guard for spreadsheets.
    if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function figureToCsv(figure) {
    var rows = [["series", "x", "y"]];
    (figure.data || []).forEach(function (trace, i) {
      var name = trace.name || ("series " + (i + 1));
      var xs = trace.x || trace.labels || [];
      var ys = trace.y || trace.values || [];
      if (trace.type === "heatmap" && Array.isArray(trace.z)) {
        rows[0] = ["row", "column", "value"];
        trace.z.forEach(function (row, r) {
          row.forEach(function (v, c) { rows.push([(trace.y || [])[r], (trace.x || [])[c], v]); });
        });
        return;
      }
      for (var k = 0; k < Math.max(xs.length, ys.length); k++) rows.push([name, xs[k], ys[k]]);
    });
    return rows.map(function (r) { return r.map(csvCell).join(","); }).join("\n") + "\n";
  }

  function addCsvLink(el, figure) {
    var link = document.createElement("a");
    link.href = "#";
    link.className = "chart-csv";
    link.textContent = "Download CSV";
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var blob = new Blob([figureToCsv(figure)], { type: "text/csv" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = (el.getAttribute("data-csv-name") || "chart") + ".csv";
      document.body.appendChild(a); a.click(); a.remove();
    });
    var tools = document.createElement("div");
    tools.className = "chart-tools";
    tools.appendChild(link);
    el.parentNode.appendChild(tools);
  }

  function drawCharts(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn")) return;
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, figure.data, figure.layout, figure.config || { displaylogo: false, responsive: true });
      el.setAttribute("data-drawn", "1");
      addCsvLink(el, figure);
    });
  }
  window.PortalCharts = { draw: drawCharts, toCsv: figureToCsv };

  // Elements with data-poll-url refresh themselves (background work in progress).
  function poll(el) {
    var url = el.getAttribute("data-poll-url");
    var every = parseInt(el.getAttribute("data-poll-seconds") || "5", 10) * 1000;
    setTimeout(function () {
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (!fresh) return;
          el.replaceWith(fresh);
          drawCharts(fresh);
          if (fresh.getAttribute("data-poll-url")) poll(fresh);
        })
        .catch(function () { poll(el); });
    }, every);
  }

  // Confirm destructive actions: <button data-confirm="Really erase?">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) event.preventDefault();
  });

  // Auto-submit filter forms on change: <form data-autosubmit>.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) form.submit();
  });

  // Every table in the page exports to CSV: the server renders the page and converts table N
  // (portal/tables.py), so a paginated list exports whole. <table data-no-csv> opts out.
  function addTableCsvLinks() {
    document.querySelectorAll("main table").forEach(function (table, index) {
      if (table.hasAttribute("data-no-csv") || table.getAttribute("data-csv-linked")) return;
      table.setAttribute("data-csv-linked", "1");
      var params = new URLSearchParams(window.location.search);
      params.delete("page");
      params.set("format", "csv");
      params.set("table", String(index));
      var link = document.createElement("a");
      link.href = window.location.pathname + "?" + params.toString();
      link.className = "table-csv";
      link.textContent = "Download CSV";
      var tools = document.createElement("div");
      tools.className = "table-tools no-print";
      tools.appendChild(link);
      var holder = table.closest(".table-wrap") || table;
      holder.parentNode.insertBefore(tools, holder.nextSibling);
    });
  }

  function start() {
    addTableCsvLinks();
    drawCharts(document);
    document.querySelectorAll("[data-poll-url]").forEach(poll);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("load", function () { drawCharts(document); });
})();
