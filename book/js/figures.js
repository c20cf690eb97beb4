// Draw the figures queued by theme/head.hbs, now that plotly.js (the previous additional-js
// file) has set the real window.Plotly.
(function () {
  "use strict";
  var pending = window.nmfPendingFigures || [];
  window.nmfPendingFigures = [];
  if (!window.Plotly || !window.Plotly.react) {
    pending.forEach(function (args) {
      var div = document.getElementById(args[0]);
      if (div) div.textContent = "plotly.js did not load: this figure cannot be drawn.";
    });
    return;
  }
  pending.forEach(function (args) {
    window.Plotly.newPlot.apply(window.Plotly, args);
  });
})();
