// Runs in a report page, after vega, vega-lite and vega-embed: every figure that carries its
// Vega-Lite spec becomes a live chart (tooltips, zoom, legend highlight, save as SVG/PNG/CSV).
// The static SVG beside it stays in the page: it shows when scripts do not run, and in print.
(function () {
  "use strict";
  var SPEC_TYPE = "application/vnd.vegalite.v5+json";
  var OPTIONS = {
    renderer: "svg",
    // The online editor and the compiled-spec view are of no use offline.
    actions: { export: { svg: true, png: true }, source: true, compiled: false, editor: false },
    i18n: { SVG_ACTION: "Save as SVG", PNG_ACTION: "Save as PNG", SOURCE_ACTION: "View Vega-Lite spec" },
  };

  /** The chart's rows: the first inline data in the spec (top level, else the first layer that has some). */
  function chartRows(spec) {
    if (spec.data && Array.isArray(spec.data.values)) return spec.data.values;
    var children = spec.layer || (spec.spec ? [spec.spec] : []);
    for (var i = 0; i < children.length; i++) {
      var rows = chartRows(children[i]);
      if (rows) return rows;
    }
    return null;
  }

  function csvField(value) {
    var text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(rows) {
    var columns = [];
    rows.forEach(function (row) {
      Object.keys(row).forEach(function (key) {
        if (columns.indexOf(key) < 0) columns.push(key);
      });
    });
    var lines = [columns.map(csvField).join(",")];
    rows.forEach(function (row) {
      lines.push(columns.map(function (c) { return csvField(row[c]); }).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function fileName(spec, index) {
    var title = typeof spec.title === "string" ? spec.title : spec.title && spec.title.text;
    var slug = String(title || "chart-" + (index + 1)).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    return slug || "chart-" + (index + 1);
  }

  /** vega-embed has no CSV action: one more link in its actions menu. */
  function addCsvAction(element, spec, name) {
    var menu = element.querySelector(".vega-actions");
    var rows = chartRows(spec);
    if (!menu || !rows) return;
    var link = document.createElement("a");
    link.textContent = "Save data as CSV";
    link.download = name + ".csv";
    link.href = "data:text/csv;charset=utf-8," + encodeURIComponent(toCsv(rows));
    menu.insertBefore(link, menu.children[2] || null);
  }

  function embedFigure(figure, index) {
    var spec = JSON.parse(figure.querySelector('script[type="' + SPEC_TYPE + '"]').textContent);
    var live = document.createElement("div");
    live.className = "chart-live";
    figure.appendChild(live);
    var name = fileName(spec, index);
    var options = Object.assign({ downloadFileName: name }, OPTIONS);
    return vegaEmbed(live, spec, options).then(function (result) {
      addCsvAction(live, spec, name);
      figure.classList.add("live");
      return { figure: figure, view: result.view, spec: spec };
    });
  }

  function start() {
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
    Promise.all(
      figures.map(function (figure, i) {
        return embedFigure(figure, i).catch(function (error) {
          console.error("chart " + (i + 1) + " stays static: " + error.message);
          return null;
        });
      }),
    ).then(function (charts) {
      // For scripts driving the page (the report tests): the live views, in page order.
      window.reportCharts = charts;
      document.documentElement.setAttribute("data-charts-ready", String(charts.filter(Boolean).length));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
