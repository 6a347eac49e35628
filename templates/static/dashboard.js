// Live updates for the request list: server-sent events, or a short poll where those fail.
// The list is re-read from the server (already escaped HTML), never built from raw data here.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var list = document.getElementById("requests");
  if (!live || !list) {
    return;
  }
  var POLL_MS = 3000;
  var latest = Number(list.dataset.latest);

  function say(text) {
    live.textContent = text;
  }

  function refresh() {
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("list: HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("requests");
        if (!fresh) {
          return;
        }
        var known = {};
        list.querySelectorAll("tr[data-request-id]").forEach(function (row) {
          known[row.dataset.requestId] = row.className;
        });
        fresh.querySelectorAll("tr[data-request-id]").forEach(function (row) {
          if (known[row.dataset.requestId] !== row.className) {
            row.classList.add("fresh");
          }
        });
        list.replaceWith(fresh);
        list = fresh;
      })
      .catch(function (error) {
        say("Live updates paused (" + error.message + "); reload the page.");
      });
  }

  function seen(value) {
    if (value > latest) {
      latest = value;
      refresh();
    }
  }

  function poll() {
    fetch(live.dataset.changes, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (changes) {
        if (changes) {
          seen(changes.latest);
        }
      })
      .catch(function () {
        say("Live updates: the server did not answer; trying again.");
      })
      .finally(function () {
        window.setTimeout(poll, POLL_MS);
      });
  }

  function startPolling() {
    say("Live updates on (checking every few seconds).");
    poll();
  }

  if (!window.EventSource) {
    startPolling();
    return;
  }
  var source = new EventSource(live.dataset.stream);
  var failures = 0;
  source.onopen = function () {
    failures = 0;
    say("Live updates on.");
  };
  source.addEventListener("change", function (event) {
    seen(JSON.parse(event.data).latest);
  });
  source.onerror = function () {
    // The server ends each stream after a while and the browser reconnects; only a stream
    // that keeps failing (or is refused) makes us fall back to polling.
    failures += 1;
    if (source.readyState === EventSource.CLOSED || failures >= 3) {
      source.close();
      startPolling();
    }
  };
})();
