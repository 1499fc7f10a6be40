// GoatedVIPs site script: countdowns, live regions refreshed over the WebSocket, forms that
// post JSON to the API, copy-to-clipboard. No framework, no build step. Pages work without it.
"use strict";

(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Countdowns: <span class="countdown" data-end="RFC 3339">.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-end]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.end) - now) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600),
          m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = d + "d " + pad(h) + "h " + pad(m) + "m " + pad(s) + "s";
    });
  }

  // Live regions: [data-live] with an id. On an update the page is fetched again and the
  // regions' contents are swapped in (the server renders them; no second template here).
  var refreshing = false, again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) el.innerHTML = fresh.innerHTML;
        });
        document.body.dataset.liveVersion = String(Number(document.body.dataset.liveVersion || 0) + 1);
        tick();
      })
      .catch(function () {})
      .then(function () { refreshing = false; if (again) { again = false; refresh(); } });
  }

  // A live region about one open race ([data-race]) follows that race's updates alone
  // (/ws?race=ID); other pages follow the leaderboard's. A race socket refused (the race has
  // closed meanwhile) falls back to the leaderboard's.
  function connect(delay, race) {
    if (!document.querySelector("[data-live]") || !window.WebSocket) return;
    if (race === undefined) {
      var about = document.querySelector("[data-live][data-race]");
      race = about ? about.dataset.race : "";
    }
    var opened = false;
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
      (race ? "?race=" + encodeURIComponent(race) : ""));
    ws.onopen = function () { opened = true; document.body.dataset.live = "connected"; delay = 1000; };
    ws.onmessage = function (ev) {
      try {
        var msg = JSON.parse(ev.data);
        var update = race ? msg.type === "RACE_UPDATE" : msg.type === "LEADERBOARD_UPDATE";
        if (update || msg.type === "RACE_COMPLETED") refresh();
      } catch (e) { /* not ours */ }
    };
    ws.onclose = function () {
      document.body.dataset.live = "reconnecting";
      var next = opened ? race : "";
      setTimeout(function () { connect(Math.min(delay * 2, 30000), next); }, delay);
    };
  }

  // Forms with data-api: JSON to the API; the answer's message goes to the form's status.
  function formBody(form) {
    var body = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "hidden" && !el.name) return;
      var v = el.value;
      if (el.dataset.bool !== undefined) v = el.checked;
      else if (el.dataset.int !== undefined) v = parseInt(v, 10);
      else if (el.dataset.utc !== undefined) v = v ? new Date(v + "Z").toISOString() : v;
      body[el.name] = v;
    });
    return body;
  }

  function send(url, method, body, status, done) {
    if (status) status.textContent = "Working…";
    fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (r.ok) { if (status) status.textContent = "Done."; done(data); return; }
        var msg = data && data.error && data.error.message ? data.error.message : "Something went wrong (" + r.status + ").";
        if (status) status.textContent = msg.charAt(0).toUpperCase() + msg.slice(1);
      });
    }).catch(function () { if (status) status.textContent = "Could not reach the server. Try again."; });
  }

  // The race form's prize table ([data-prize-preview]), redrawn as the admin types: each
  // place's amount is pool × share / 100 rounded down to the cent, as the server computes it
  // (exact: decimals are read into integers, never floats).
  function decimal(text) {
    var m = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
    if (!m) return null;
    var frac = m[2] || "";
    return { n: BigInt(m[1] + frac), scale: frac.length };
  }
  function decimalText(d) {
    var s = d.n.toString();
    while (s.length <= d.scale) s = "0" + s;
    var whole = s.slice(0, s.length - d.scale), frac = s.slice(s.length - d.scale).replace(/0+$/, "");
    return frac ? whole + "." + frac : whole;
  }
  function centsText(cents) {
    var whole = (cents / 100n).toString(), frac = (cents % 100n).toString();
    return "$" + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (frac.length < 2 ? "0" + frac : frac);
  }
  function drawPreview(form) {
    var box = form.querySelector(".prize-preview");
    if (!box) return;
    var pool = decimal(form.elements.prize_pool.value);
    var shares = form.elements.prize_percentages.value.split(/[,;\s]+/).filter(function (p) { return p; }).map(decimal);
    var body = box.querySelector("tbody"), total = box.querySelector(".split-total"), over = box.querySelector(".split-over");
    body.textContent = ""; total.textContent = ""; over.textContent = "";
    if (!pool || shares.length === 0 || shares.some(function (p) { return !p; })) return;
    var scale = Math.max.apply(null, shares.map(function (p) { return p.scale; }));
    var sum = { n: 0n, scale: scale };
    shares.forEach(function (p, i) {
      sum.n += p.n * 10n ** BigInt(scale - p.scale);
      var cents = pool.n * p.n / 10n ** BigInt(pool.scale + p.scale);
      var tr = document.createElement("tr");
      [["#" + (i + 1), ""], [decimalText(p) + " %", "num"], [centsText(cents), "num"]].forEach(function (c) {
        var td = document.createElement("td"); td.textContent = c[0]; if (c[1]) td.className = c[1]; tr.append(td);
      });
      body.append(tr);
    });
    total.textContent = "Total: " + decimalText(sum) + " % of the pool";
    if (sum.n > 100n * 10n ** BigInt(scale)) over.textContent = "The places add up to " + decimalText(sum) + " %, more than 100 %.";
  }

  function wire() {
    document.querySelectorAll("form[data-prize-preview]").forEach(function (form) {
      form.addEventListener("input", function () { drawPreview(form); });
      drawPreview(form);
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) { if (!window.confirm(form.dataset.confirm)) ev.preventDefault(); });
    });
    document.querySelectorAll("form[data-api]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var status = form.querySelector(".form-status");
        send(form.dataset.api, form.dataset.method || "POST", formBody(form), status, function () {
          if (form.dataset.next) location.assign(form.dataset.next);
          else if (form.dataset.reload !== undefined) location.reload();
          // Staying on the page (the password form): the secrets typed leave the fields.
          else form.reset();
        });
      });
    });
    document.querySelectorAll("button[data-post]").forEach(function (b) {
      b.addEventListener("click", function () {
        var section = b.closest("section");
        send(b.dataset.post, "POST", {}, section && section.querySelector(".form-status"), function () { location.reload(); });
      });
    });
    var tg = document.getElementById("tg-code");
    if (tg) tg.addEventListener("click", function () {
      var out = document.getElementById("tg-result");
      send(tg.dataset.api, "POST", {}, out, function (data) {
        out.textContent = "";
        var p = document.createElement("p");
        p.append("Your code: ");
        var c = document.createElement("code"); c.className = "code"; c.id = "tg-code-value"; c.textContent = data.code;
        p.append(c);
        out.append(p);
        if (data.deep_link) {
          var a = document.createElement("a"); a.className = "button"; a.href = data.deep_link;
          a.textContent = "Open Telegram and link"; out.append(a);
        } else {
          var i = document.createElement("p"); i.textContent = "Send /start " + data.code + " to our Telegram bot within 10 minutes.";
          out.append(i);
        }
      });
    });
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var status = document.getElementById("copy-status");
        var ok = function () { b.textContent = "Copied!"; if (status) status.textContent = "Copied " + b.dataset.copy; };
        if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.copy).then(ok, function () { if (status) status.textContent = "Copy failed: select the code instead."; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire();
    tick();
    setInterval(tick, 1000);
    connect(1000);
  });
})();
