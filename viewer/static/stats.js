// The statistics dashboard's charts, drawn with Chart.js from each canvas's data-chart
// attribute: {type, labels, series: [{label, data, axis}], horizontal}. Without script, the
// table under each chart shows the same figures.
"use strict";

(() => {
  if (typeof window.Chart === "undefined") {
    return;
  }
  const COLOURS = ["#8a2b1d", "#1a5fb4", "#2f7d4a", "#b7791f", "#6b4c9a", "#5b616b"];
  const lang = document.documentElement.lang || "vi";
  const number = new Intl.NumberFormat(lang);
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#5b616b";

  function dataset(series, index, type) {
    const colour = COLOURS[index % COLOURS.length];
    return {
      label: series.label,
      data: series.data,
      yAxisID: series.axis === "y2" ? "y2" : "y",
      borderColor: colour,
      backgroundColor: type === "bar" ? colour : colour + "22",
      borderWidth: 2,
      pointRadius: 2,
      tension: 0.2,
    };
  }

  function scales(spec) {
    const ticks = { callback: (value) => number.format(value), precision: 0 };
    const valueAxis = { beginAtZero: true, ticks };
    if (spec.horizontal) {
      return { x: valueAxis, y: { ticks: { autoSkip: false } } };
    }
    const result = { y: valueAxis };
    if (spec.series.some((series) => series.axis === "y2")) {
      result.y2 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks };
    }
    return result;
  }

  function draw(canvas) {
    const spec = JSON.parse(canvas.dataset.chart);
    return new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.series.map((s, i) => dataset(s, i, spec.type)) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: calm ? false : { duration: 400 },
        interaction: { mode: "index", intersect: false },
        scales: scales(spec),
        plugins: {
          legend: { display: spec.series.length > 1, position: "bottom" },
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label}: ${number.format(item.parsed[spec.horizontal ? "x" : "y"])}` },
          },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
