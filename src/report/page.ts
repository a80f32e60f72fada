// The style and the browser script of report.html. The script reads the page's JSON data
// (#report-data, see ReportData) and draws the charts with uPlot, which the page inlines.

export const REPORT_STYLE = `
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: right; }
#confusion td.cell { min-width: 4em; text-align: center; font-weight: bold; }
.plot { margin: 1em 0; }
figure { display: inline-block; margin: 0.5em; text-align: center; }
img.slice { height: 10em; image-rendering: pixelated; margin: 0 2px; background: #000; }
`;

// Plain ES2017 so every browser with uPlot's requirements runs it.
export const REPORT_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];
  function chart(id, title, xLabel, x, series, yRange) {
    var target = document.getElementById(id);
    if (!target || series.length === 0) return;
    var options = {
      title: title, width: 720, height: 300,
      scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
      axes: [{ label: xLabel }, {}],
      series: [{ label: xLabel }].concat(series.map(function (s, i) {
        return { label: s.name, stroke: colours[i % colours.length], width: 2, spanGaps: true };
      })),
    };
    new uPlot(options, [x].concat(series.map(function (s) { return s.values; })), target);
  }
  var names = Object.keys(data.curves);
  var pick = function (test) {
    return names.filter(test).map(function (n) { return { name: n, values: data.curves[n] }; });
  };
  chart('plot-loss', 'Loss per epoch', 'epoch', data.epochs,
    pick(function (n) { return /loss$/.test(n); }));
  chart('plot-metrics', 'Validation metrics per epoch', 'epoch', data.epochs,
    pick(function (n) { return !/loss$/.test(n); }));
  if (data.roc) {
    chart('plot-roc', 'ROC curve', 'false positive rate', data.roc.fpr,
      [{ name: 'true positive rate', values: data.roc.tpr }], [0, 1]);
  }
})();
`;
