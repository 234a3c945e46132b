// Issue 20: the live part is replaced every 30 s (htmx); the roles the director unfolded stay unfolded.
(function () {
  "use strict";
  var open = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "board-live") return;
    open = Array.prototype.map.call(target.querySelectorAll("details[data-role][open]"), function (d) { return d.getAttribute("data-role"); });
  });
  document.addEventListener("htmx:afterSettle", function () {
    var live = document.getElementById("board-live");
    if (!live) return;
    open.forEach(function (role) {
      var details = live.querySelector('details[data-role="' + role + '"]');
      if (details) details.open = true;
    });
  });
})();
// The board's trend charts: data from /board/trends/ (JSON), drawn with Chart.js served from static/vendor.
(function () {
  "use strict";
  var section = document.querySelector("[data-trends]");
  if (!section || typeof Chart === "undefined") return;
  var names = JSON.parse(document.getElementById("chart-labels").textContent);
  var charts = {};
  var brand = "#c4302b", ok = "#1a7f37", muted = "#6a737d";

  function draw(id, datasets, labels, options) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, spanGaps: true, animation: false,
        plugins: { legend: { display: datasets.length > 1, labels: { boxWidth: 12 } } },
        scales: { x: { ticks: { maxTicksLimit: 8 } } } }, options || {})
    });
  }

  function load(days) {
    var url = section.getAttribute("data-trends") + "&days=" + days;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var labels = data.labels.map(function (d) { return d.slice(5); });
      draw("chart-completion", [{ label: names.completion, data: data.completion, borderColor: ok, backgroundColor: ok, pointRadius: 2 }],
        labels, { scales: { y: { min: 0, max: 100 }, x: { ticks: { maxTicksLimit: 8 } } } });
      draw("chart-sales", [
        { label: names.sales, data: data.sales, borderColor: brand, backgroundColor: brand, pointRadius: 2 },
        { label: names.target, data: data.sales_target, borderColor: muted, borderDash: [4, 4], pointRadius: 0 }
      ], labels);
      draw("chart-roi", [{ label: names.roi, data: data.roi, borderColor: "#0969da", backgroundColor: "#0969da", pointRadius: 2 }], labels);
      section.setAttribute("data-loaded", String(days));
    });
  }

  section.querySelectorAll("button[data-days]").forEach(function (button) {
    button.addEventListener("click", function () {
      section.querySelectorAll("button[data-days]").forEach(function (b) { b.classList.remove("current"); });
      button.classList.add("current");
      load(button.getAttribute("data-days"));
    });
  });
  load(30);
})();
