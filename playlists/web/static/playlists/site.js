/* Crossfade's small progressive enhancements: no library, no network beyond this site.
   Every feature looks for its markup and does nothing where it is absent; the pages work without it. */
(function () {
  "use strict";

  function announce(text) {
    var box = document.getElementById("announcer");
    if (box) { box.textContent = text; }
  }

  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) { return field.value; }
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* Like / dislike wherever a track appears: post in the background and show the state. */
  function setupRatings() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList || !form.classList.contains("rate")) { return; }
      var button = event.submitter;
      if (!button || !button.value || !form.getAttribute("data-api-url")) { return; }
      event.preventDefault();
      var wasPressed = button.getAttribute("aria-pressed") === "true";
      var value = wasPressed ? 0 : (button.value === "like" ? 1 : -1);
      fetch(form.getAttribute("data-api-url"), {
        method: "POST", body: JSON.stringify({ rating: value }), credentials: "same-origin",
        headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) }
      })
        .then(function (response) { if (!response.ok) { throw new Error("HTTP " + response.status); } return response.json(); })
        .then(function (answer) {
          // Every copy of this track's buttons on the page shows the new state.
          document.querySelectorAll("form.rate[action='" + form.getAttribute("action") + "'] button").forEach(function (other) {
            var on = (other.value === "like" && answer.rating === 1) || (other.value === "dislike" && answer.rating === -1);
            other.setAttribute("aria-pressed", on ? "true" : "false");
          });
          announce(answer.rating === 1 ? "Liked." : answer.rating === -1 ? "Disliked." : "Rating cleared.");
        })
        .catch(function () { form.submit(); });
    });
  }

  /* Tasks: rows with data-job-url poll their status until the work is finished. */
  function setupJobs() {
    document.querySelectorAll("[data-job-url]").forEach(function (row) {
      if (row.classList.contains("done") || row.classList.contains("failed")) { return; }
      var timer = setInterval(function () {
        fetch(row.getAttribute("data-job-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (job) {
            if (!job) { clearInterval(timer); return; }
            var status = row.querySelector(".job-status .state");
            status.textContent = job.status_display;
            status.className = "state " + job.status;
            var bar = row.querySelector("progress");
            bar.max = job.total || 1;
            bar.value = job.finished ? (job.total || 1) : job.done;
            row.querySelector(".job-note").textContent = job.note + (job.total ? " (" + job.done + "/" + job.total + ")" : "");
            if (job.finished) {
              clearInterval(timer);
              row.className = "job " + job.status;
              var outcome = row.querySelector(".job-outcome");
              outcome.textContent = job.error || Object.keys(job.outcome).map(function (k) { return k + ": " + JSON.stringify(job.outcome[k]); }).join(" · ");
              announce(job.label + ": " + job.status_display);
              if (row.hasAttribute("data-reload") && job.status === "done") { window.location.reload(); }
            }
          })
          .catch(function () { clearInterval(timer); });
      }, 1500);
    });
  }

  /* Tabs (track pictures). */
  function setupTabs() {
    document.querySelectorAll("[role=tablist]").forEach(function (list) {
      var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
      function select(tab) {
        tabs.forEach(function (other) {
          var on = other === tab;
          other.setAttribute("aria-selected", on ? "true" : "false");
          other.tabIndex = on ? 0 : -1;
          document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
        });
      }
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function () { select(tab); });
        tab.addEventListener("keydown", function (event) {
          var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
          if (step) { var next = tabs[(i + step + tabs.length) % tabs.length]; select(next); next.focus(); }
        });
      });
      if (tabs.length) { select(tabs[0]); }
    });
  }

  /* Playlist builder: seed search as you type; a found track is added to the seeds without reloading. */
  function setupSeedSearch() {
    var form = document.querySelector("form.seed-search");
    var results = document.getElementById("seed-results");
    var seedList = document.querySelector("ul.seed-list");
    if (!form || !results || !seedList) { return; }
    var input = form.querySelector("input[name=q]");
    var pathSelect = document.querySelector("select[name=path_to]");
    var pending = null, lastQuery = null;

    function chosen(id) { return seedList.querySelector("input[name=seeds][value='" + id + "']"); }

    function add(track) {
      var existing = chosen(track.id);
      if (existing) { existing.checked = true; announce(track.title + " is already a seed."); return; }
      var item = document.createElement("li");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "seeds"; box.value = track.id; box.checked = true;
      var muted = document.createElement("span");
      muted.className = "muted"; muted.textContent = track.artist;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + track.title + " "));
      label.appendChild(muted);
      item.appendChild(label);
      seedList.insertBefore(item, seedList.firstChild);
      var empty = seedList.querySelector("li.empty");
      if (empty) { empty.remove(); }
      if (pathSelect && !pathSelect.querySelector("option[value='" + track.id + "']")) {
        var option = document.createElement("option");
        option.value = track.id; option.textContent = track.title;
        pathSelect.appendChild(option);
      }
      announce(track.title + " added to the seeds.");
    }

    function show(answer) {
      results.textContent = "";
      answer.results.forEach(function (track) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "add-seed";
        button.textContent = "+ " + track.title + (track.artist ? " — " + track.artist : "");
        button.setAttribute("aria-label", "Add " + track.title + " as a seed");
        button.addEventListener("click", function () { add(track); });
        item.appendChild(button);
        results.appendChild(item);
      });
      if (!answer.results.length && answer.query) {
        var none = document.createElement("li");
        none.className = "empty"; none.textContent = "No tracks match “" + answer.query + "”.";
        results.appendChild(none);
      }
    }

    function search() {
      var query = input.value.trim();
      if (query === lastQuery) { return; }
      lastQuery = query;
      fetch(form.getAttribute("data-search-url") + "?q=" + encodeURIComponent(query), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { query: query, results: [] }; })
        .then(function (answer) { if (answer.query === input.value.trim()) { show(answer); } })
        .catch(function () { /* the plain search button still works */ });
    }

    input.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(search, 200); });
    form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
  }

  /* The playlist player: in order, next/previous, keys, resume within a track (the audio URL serves ranges). */
  function setupPlayer() {
    var root = document.getElementById("player");
    if (!root) { return; }
    var audio = document.createElement("audio");
    audio.id = "player-audio";
    audio.preload = "none";
    audio.setAttribute("aria-label", "Playlist player");
    root.insertBefore(audio, root.firstChild);
    root.hidden = false;
    var queue = Array.prototype.slice.call(root.querySelectorAll(".player-queue li"));
    var title = document.getElementById("player-title");
    var why = document.getElementById("player-why");
    var where = document.getElementById("player-position");
    var play = document.getElementById("player-play");
    var seek = document.getElementById("player-seek");
    var clock = document.getElementById("player-time");
    var storeKey = "crossfade-player-" + root.getAttribute("data-playlist");
    var current = -1;
    if (!queue.length) { title.textContent = "No playable tracks"; play.disabled = true; return; }

    function remember() {
      try { localStorage.setItem(storeKey, JSON.stringify({ index: current, time: audio.currentTime || 0 })); } catch (e) { /* private mode */ }
    }
    function recall() {
      try { return JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
    }
    function format(seconds) {
      if (!isFinite(seconds)) { return "0:00"; }
      var s = Math.floor(seconds);
      return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
    }
    function load(index, startAt, autoplay) {
      current = (index + queue.length) % queue.length;
      var item = queue[current];
      queue.forEach(function (other) { other.removeAttribute("aria-current"); });
      item.setAttribute("aria-current", "true");
      document.querySelectorAll("table.playlist tr.playing").forEach(function (row) { row.classList.remove("playing"); });
      title.textContent = item.getAttribute("data-title");
      why.textContent = item.getAttribute("data-why");
      where.textContent = "track " + (current + 1) + " of " + queue.length;
      audio.src = item.getAttribute("data-src");
      if (startAt) {
        audio.addEventListener("loadedmetadata", function once() { audio.removeEventListener("loadedmetadata", once); audio.currentTime = startAt; });
      }
      audio.load();
      if (autoplay) { audio.play().catch(function () { /* the browser wants a gesture first */ }); }
      remember();
    }
    function toggle() {
      if (current < 0) { load(0, 0, true); return; }
      if (audio.paused) { audio.play().catch(function () {}); } else { audio.pause(); }
    }

    play.addEventListener("click", toggle);
    document.getElementById("player-next").addEventListener("click", function () { load(current + 1, 0, true); });
    document.getElementById("player-prev").addEventListener("click", function () {
      if (audio.currentTime > 3) { audio.currentTime = 0; } else { load(current - 1, 0, true); }
    });
    audio.addEventListener("play", function () { play.setAttribute("aria-label", "Pause"); root.classList.add("playing"); });
    audio.addEventListener("pause", function () { play.setAttribute("aria-label", "Play"); root.classList.remove("playing"); remember(); });
    audio.addEventListener("ended", function () { if (current + 1 < queue.length) { load(current + 1, 0, true); } });
    audio.addEventListener("timeupdate", function () {
      if (audio.duration) { seek.max = audio.duration; seek.value = audio.currentTime; }
      clock.textContent = format(audio.currentTime) + " / " + format(audio.duration);
      if (Math.floor(audio.currentTime) % 5 === 0) { remember(); }
    });
    seek.addEventListener("input", function () { if (audio.duration) { audio.currentTime = Number(seek.value); } });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.tagName === "BUTTON" || target.isContentEditable)) { return; }
      if (event.key === " ") { event.preventDefault(); toggle(); }
      else if (event.key === "j" || event.key === "n") { load(current + 1, 0, true); }
      else if (event.key === "k" || event.key === "p") { load(current - 1, 0, true); }
      else if (event.key === "ArrowRight" && current >= 0) { audio.currentTime = Math.min((audio.duration || 0), audio.currentTime + 10); }
      else if (event.key === "ArrowLeft" && current >= 0) { audio.currentTime = Math.max(0, audio.currentTime - 10); }
    });
    window.addEventListener("pagehide", remember);

    var saved = recall();
    if (saved && saved.index >= 0 && saved.index < queue.length) {
      load(saved.index, saved.time, false);
      where.textContent += " · resumes at " + format(saved.time);
    } else {
      load(0, 0, false);
    }
  }

  /* Range sliders show their value in the <output> beside them; forms with data-confirm ask first.
     (Here rather than in inline handlers: the Content-Security-Policy allows no inline script.) */
  function setupSliders() {
    document.addEventListener("input", function (event) {
      var slider = event.target;
      if (!slider.hasAttribute || !slider.hasAttribute("data-shows-value")) { return; }
      var shown = slider.nextElementSibling;
      if (shown && shown.tagName === "OUTPUT") { shown.value = slider.value; }
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
    }, true);
  }

  function start() {
    setupSliders();
    setupRatings();
    setupJobs();
    setupTabs();
    setupSeedSearch();
    setupPlayer();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
