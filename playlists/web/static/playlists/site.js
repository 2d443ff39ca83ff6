/* Crossfade in the browser: the player that keeps playing while you browse, and the pages' small enhancements.
   No inline script anywhere (the site's Content-Security-Policy forbids it): everything is here, bound by
   data-* attributes and classes. htmx (vendored, hx-boost) swaps #page on navigation; the player lives
   outside it. Each page feature looks for its markup and is bound once per element, on the first load and
   after every swap; the pages still work without JavaScript (plain links and forms). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  var bound = new WeakSet();
  function each(root, selector, setup) {
    var found = [];
    if (root.matches && root.matches(selector)) { found.push(root); }
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
    found.forEach(function (element) {
      if (bound.has(element)) { return; }
      bound.add(element);
      setup(element);
    });
  }

  function announce(text) {
    var box = document.getElementById("announcer");
    if (box) { box.textContent = ""; box.textContent = text; }
  }

  function flash(text, level) {
    var list = document.getElementById("messages");
    if (!list) { announce(text); return; }
    var item = document.createElement("li");
    item.className = level || "info";
    item.textContent = text;
    list.appendChild(item);
    announce(text);
  }

  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) { return field.value; }
    var any = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (any) { return any.value; }
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) { return "0:00"; }
    var s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  /* The placeholder cover's colour and initials, computed as the server's cover include does. */
  function coverHue(key) {
    var value = 0;
    for (var i = 0; i < key.length; i++) { value = (Math.imul(value, 31) + key.charCodeAt(i)) >>> 0; }
    return value % 12;
  }
  function initials(text) {
    var words = (text || "").match(/[\p{L}\p{N}_]+/gu) || [];
    words = words.filter(function (w) { return !/^\d+$/.test(w); });
    var big = words.filter(function (w) { return w.length > 3; });
    if (!big.length) { big = words; }
    return big.slice(0, 2).map(function (w) { return w[0]; }).join("").toUpperCase() || "♪";
  }

  function typingIn(target) {
    if (!target || !target.tagName) { return false; }
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") { return true; }
    return target.tagName === "INPUT" && !/^(button|submit|reset|checkbox|radio|range|file|color)$/i.test(target.type || "text");
  }

  /* ------------------------------------------------------------------ the player */

  var Player = (function () {
    var STORE = "crossfade-player";
    var root = document.getElementById("player");
    if (!root) { return null; }
    var audio = document.createElement("audio");
    audio.id = "player-audio";
    audio.preload = "metadata";
    root.appendChild(audio);
    var el = {
      title: document.getElementById("player-title"),
      artist: document.getElementById("player-artist"),
      why: document.getElementById("player-why"),
      cover: document.getElementById("player-cover"),
      play: document.getElementById("player-play"),
      prev: document.getElementById("player-prev"),
      next: document.getElementById("player-next"),
      seek: document.getElementById("player-seek"),
      time: document.getElementById("player-time"),
      duration: document.getElementById("player-duration"),
      position: document.getElementById("player-position"),
      toggle: document.getElementById("player-queue-toggle"),
      panel: document.getElementById("player-queue"),
      list: document.getElementById("queue-list"),
      source: document.getElementById("queue-source"),
      clear: document.getElementById("queue-clear"),
      save: document.getElementById("queue-save")
    };
    var state = { queue: [], index: -1, source: "" };
    var resumeAt = 0;
    var lastSaved = 0;

    function current() { return state.index >= 0 ? state.queue[state.index] : null; }

    function save() {
      try {
        localStorage.setItem(STORE, JSON.stringify({ queue: state.queue, index: state.index, source: state.source, time: audio.currentTime || resumeAt || 0 }));
      } catch (e) { /* private mode or full: the queue simply is not remembered */ }
    }

    function show() {
      root.hidden = !state.queue.length;
      document.body.classList.toggle("has-player", !!state.queue.length);
    }

    function renderNow() {
      var item = current();
      if (!item) { return; }
      el.title.textContent = item.title;
      el.title.setAttribute("href", item.url || "#");
      el.artist.textContent = item.artist || "";
      el.why.textContent = item.why || "";
      el.cover.className = "cover cover-hue-" + coverHue(item.album || item.artist || item.title) + " player-cover";
      el.cover.firstElementChild.textContent = initials(item.album || item.artist || item.title);
      el.position.textContent = (state.index + 1) + " of " + state.queue.length;
      el.prev.disabled = false;
      el.next.disabled = state.index + 1 >= state.queue.length;
      if ("mediaSession" in navigator && window.MediaMetadata) {
        navigator.mediaSession.metadata = new window.MediaMetadata({ title: item.title, artist: item.artist || "", album: item.album || state.source || "Crossfade" });
      }
    }

    function renderQueue() {
      el.list.textContent = "";
      el.source.textContent = state.source ? "from " + state.source : "";
      state.queue.forEach(function (item, i) {
        var li = document.createElement("li");
        li.className = "queue-item" + (i === state.index ? " is-playing" : "");
        if (i === state.index) { li.setAttribute("aria-current", "true"); }
        var play = document.createElement("button");
        play.type = "button";
        play.className = "queue-play";
        play.textContent = item.title + (item.artist ? " — " + item.artist : "");
        play.setAttribute("aria-label", "Play " + item.title + " from the queue");
        play.addEventListener("click", function () { load(i, 0, true); });
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "icon-button queue-remove";
        remove.textContent = "✕";
        remove.setAttribute("aria-label", "Remove " + item.title + " from the queue");
        remove.addEventListener("click", function () { removeAt(i); });
        li.appendChild(play);
        li.appendChild(remove);
        el.list.appendChild(li);
      });
      if (el.save) {
        el.save.querySelector("input[name=tracks]").value = state.queue.map(function (item) { return item.id; }).join(",");
        el.save.querySelector("input[name=name]").value = state.source || "";
      }
    }

    /* Every element showing the track now playing is marked (rows of lists, the track page). */
    function highlight() {
      var item = current();
      var id = item ? String(item.id) : null;
      document.querySelectorAll("[data-track-id]").forEach(function (element) {
        var on = id !== null && element.getAttribute("data-track-id") === id;
        element.classList.toggle("is-playing", on);
        if (on) { element.setAttribute("aria-current", "true"); } else if (element.getAttribute("aria-current") === "true") { element.removeAttribute("aria-current"); }
      });
    }

    function load(index, startAt, autoplay) {
      if (!state.queue.length) { return; }
      state.index = Math.max(0, Math.min(index, state.queue.length - 1));
      var item = current();
      resumeAt = startAt || 0;
      audio.src = item.audio_url;
      if (resumeAt) {
        audio.addEventListener("loadedmetadata", function once() {
          audio.removeEventListener("loadedmetadata", once);
          audio.currentTime = resumeAt;
        });
      }
      audio.load();
      renderNow();
      renderQueue();
      highlight();
      show();
      if (autoplay) {
        audio.play().catch(function () { /* the browser wants a gesture first: the play button is there */ });
        announce("Playing " + item.title + (item.artist ? " by " + item.artist : ""));
      }
      save();
    }

    function playQueue(items, start, source, shuffle) {
      var playable = items.filter(function (item) { return item.audio_url; });
      if (!playable.length) { flash("None of these tracks has an audio file to play.", "warning"); return; }
      var first = items[start] && items[start].audio_url ? playable.indexOf(items[start]) : 0;
      if (shuffle) {
        for (var i = playable.length - 1; i > 0; i--) { var j = Math.floor(Math.random() * (i + 1)); var t = playable[i]; playable[i] = playable[j]; playable[j] = t; }
        first = 0;
      }
      state.queue = playable;
      state.source = source || "";
      load(Math.max(0, first), 0, true);
    }

    function removeAt(i) {
      var playing = i === state.index;
      state.queue.splice(i, 1);
      if (!state.queue.length) { clear(); return; }
      if (i < state.index) { state.index -= 1; }
      if (playing) { load(Math.min(state.index, state.queue.length - 1), 0, !audio.paused); } else { renderNow(); renderQueue(); save(); }
    }

    function clear() {
      audio.pause();
      audio.removeAttribute("src");
      audio.load();
      state = { queue: [], index: -1, source: "" };
      try { localStorage.removeItem(STORE); } catch (e) { /* nothing kept */ }
      renderQueue();
      highlight();
      show();
      if ("mediaSession" in navigator) { navigator.mediaSession.metadata = null; }
    }

    function toggle() {
      if (!state.queue.length) { return; }
      if (audio.paused) { audio.play().catch(function () {}); } else { audio.pause(); }
    }
    function next() { if (state.index + 1 < state.queue.length) { load(state.index + 1, 0, true); } }
    function previous() {
      if (audio.currentTime > 3) { audio.currentTime = 0; return; }
      if (state.index > 0) { load(state.index - 1, 0, true); } else { audio.currentTime = 0; }
    }
    function seekBy(seconds) {
      if (!state.queue.length) { return; }
      audio.currentTime = Math.max(0, Math.min(audio.duration || 0, audio.currentTime + seconds));
    }
    function toggleQueue(open) {
      var show = open === undefined ? el.panel.hidden : open;
      el.panel.hidden = !show;
      el.toggle.setAttribute("aria-expanded", show ? "true" : "false");
    }

    // The title's address changes with every track, so it is followed here, as a navigation that leaves the player be.
    el.title.addEventListener("click", function (event) {
      var href = el.title.getAttribute("href");
      if (!window.htmx || !href || href === "#" || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      window.htmx.ajax("GET", href, { source: el.title, target: "#page", select: "#page", swap: "outerHTML show:window:top" });
    });
    el.play.addEventListener("click", toggle);
    el.next.addEventListener("click", next);
    el.prev.addEventListener("click", previous);
    el.toggle.addEventListener("click", function () { toggleQueue(); });
    el.clear.addEventListener("click", clear);
    el.seek.addEventListener("input", function () { if (audio.duration) { audio.currentTime = Number(el.seek.value); } });
    audio.addEventListener("play", function () {
      el.play.setAttribute("aria-label", "Pause");
      root.classList.add("playing");
      if ("mediaSession" in navigator) { navigator.mediaSession.playbackState = "playing"; }
    });
    audio.addEventListener("pause", function () {
      el.play.setAttribute("aria-label", "Play");
      root.classList.remove("playing");
      if ("mediaSession" in navigator) { navigator.mediaSession.playbackState = "paused"; }
      save();
    });
    audio.addEventListener("ended", function () {
      if (state.index + 1 < state.queue.length) { load(state.index + 1, 0, true); } else { announce("The queue has ended."); }
    });
    audio.addEventListener("timeupdate", function () {
      if (audio.duration) { el.seek.max = audio.duration; el.seek.value = audio.currentTime; }
      el.time.textContent = clock(audio.currentTime);
      el.duration.textContent = clock(audio.duration);
      if (Date.now() - lastSaved > 3000) { lastSaved = Date.now(); save(); }
    });
    audio.addEventListener("error", function () {
      if (audio.getAttribute("src")) { flash("This track could not be played (its file may have moved).", "warning"); }
    });
    window.addEventListener("pagehide", save);

    if ("mediaSession" in navigator) {
      var actions = {
        play: function () { audio.play().catch(function () {}); },
        pause: function () { audio.pause(); },
        previoustrack: previous,
        nexttrack: next,
        seekbackward: function () { seekBy(-10); },
        seekforward: function () { seekBy(10); },
        seekto: function (details) { if (details && isFinite(details.seekTime)) { audio.currentTime = details.seekTime; } }
      };
      Object.keys(actions).forEach(function (name) {
        try { navigator.mediaSession.setActionHandler(name, actions[name]); } catch (e) { /* this browser does not offer that action */ }
      });
    }

    /* After a full page load the queue comes back where it was, paused. */
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || "null");
      if (saved && saved.queue && saved.queue.length) {
        state.queue = saved.queue;
        state.source = saved.source || "";
        load(saved.index >= 0 ? saved.index : 0, saved.time || 0, false);
        if (saved.time >= 1) { el.position.textContent += " · resumes at " + clock(saved.time); }
      }
    } catch (e) { /* nothing usable was kept */ }
    show();

    return {
      audio: audio, playQueue: playQueue, toggle: toggle, next: next, previous: previous, seekBy: seekBy, clear: clear,
      highlight: highlight, toggleQueue: toggleQueue, active: function () { return state.queue.length > 0; }
    };
  }());

  /* A [data-queue] list's rows as queue items (the player skips those without audio). */
  function queueItems(container) {
    return Array.prototype.slice.call(container.querySelectorAll("[data-track-id]")).map(function (row) {
      return {
        id: Number(row.getAttribute("data-track-id")),
        title: row.getAttribute("data-title") || "",
        artist: row.getAttribute("data-artist") || "",
        album: row.getAttribute("data-album") || "",
        url: row.getAttribute("data-url") || "",
        audio_url: row.getAttribute("data-src") || "",
        why: row.getAttribute("data-why") || "",
        row: row
      };
    });
  }
  function plain(items) { return items.map(function (item) { var copy = Object.assign({}, item); delete copy.row; return copy; }); }

  function playFrom(row) {
    var container = row.closest("[data-queue]");
    if (!container || !Player) { return; }
    var items = queueItems(container);
    var start = items.findIndex(function (item) { return item.row === row; });
    Player.playQueue(plain(items), Math.max(0, start), container.getAttribute("data-queue-label") || "");
  }

  function mix(button) {
    if (!Player) { return; }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    fetch(button.getAttribute("data-mix"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) { if (!response.ok) { throw new Error(body.error ? body.error.message : "HTTP " + response.status); } return body; });
      })
      .then(function (answer) {
        if (!answer.tracks.length) { flash("No instant mix: " + (answer.messages[0] || "nothing close enough is indexed yet."), "warning"); return; }
        Player.playQueue(answer.tracks, 0, answer.name, false);
        answer.messages.forEach(function (note) { flash(note, "warning"); });
      })
      .catch(function (error) { flash("No instant mix: " + error.message, "error"); })
      .then(function () { button.disabled = false; button.removeAttribute("aria-busy"); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target) { return; }
    var row = target.closest(".play-row");
    if (row) { event.preventDefault(); playFrom(row.closest("[data-track-id]") || row); return; }
    var all = target.closest("[data-play-queue]");
    if (all && Player) {
      var container = document.querySelector(all.getAttribute("data-play-queue"));
      if (container) { Player.playQueue(plain(queueItems(container)), 0, container.getAttribute("data-queue-label") || "", all.hasAttribute("data-shuffle")); }
      return;
    }
    var mixer = target.closest("[data-mix]");
    if (mixer) { event.preventDefault(); mix(mixer); }
  });

  /* Keys anywhere but where one types: Space play/pause, j/k next/previous, arrows seek, q the queue; media keys always. */
  var spaceHandled = false;
  document.addEventListener("keydown", function (event) {
    if (!Player) { return; }
    var key = event.key;
    if (key === "MediaPlayPause") { event.preventDefault(); Player.toggle(); return; }
    if (key === "MediaTrackNext") { event.preventDefault(); Player.next(); return; }
    if (key === "MediaTrackPrevious") { event.preventDefault(); Player.previous(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) { return; }
    var target = event.target;
    var isToggle = target && target.tagName === "INPUT" && /^(checkbox|radio)$/i.test(target.type);
    var isRange = target && target.tagName === "INPUT" && /^range$/i.test(target.type);
    if (key === " " || key === "Spacebar") {
      // A focused button would otherwise be pressed by Space (after a click on "Next", Space skipped a track).
      if (isToggle || !Player.active()) { return; }
      event.preventDefault();
      spaceHandled = true;
      Player.toggle();
      return;
    }
    if (!Player.active()) { return; }
    if (key === "j" || key === "n") { Player.next(); }
    else if (key === "k" || key === "p") { Player.previous(); }
    else if (key === "q") { Player.toggleQueue(); }
    else if (!isRange && key === "ArrowRight") { event.preventDefault(); Player.seekBy(10); }
    else if (!isRange && key === "ArrowLeft") { event.preventDefault(); Player.seekBy(-10); }
  });
  document.addEventListener("keyup", function (event) {
    if ((event.key === " " || event.key === "Spacebar") && spaceHandled) { spaceHandled = false; event.preventDefault(); }
  });

  /* ------------------------------------------------------------------ page features */

  /* Like / dislike wherever a track appears: post in the background and show the state. */
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
        document.querySelectorAll("form.rate[action='" + form.getAttribute("action") + "'] button").forEach(function (other) {
          var on = (other.value === "like" && answer.rating === 1) || (other.value === "dislike" && answer.rating === -1);
          other.setAttribute("aria-pressed", on ? "true" : "false");
        });
        announce(answer.rating === 1 ? "Liked." : answer.rating === -1 ? "Disliked." : "Rating cleared.");
      })
      .catch(function () { form.submit(); });
  });

  /* Logging out ends the session the queue's audio belongs to. */
  document.addEventListener("submit", function (event) {
    if (event.target.classList && event.target.classList.contains("logout") && Player) { Player.clear(); }
  }, true);

  /* Sliders show their value beside them (<output for=...>). */
  function setupSliders(root) {
    each(root, "input[type=range]", function (input) {
      if (!input.id) { return; }
      var output = document.querySelector("output[for='" + input.id + "']");
      if (!output) { return; }
      input.addEventListener("input", function () { output.value = input.value; });
    });
  }

  /* Tasks: rows with data-job-url poll their status until the work is finished (and stop when the page is left). */
  function setupJobs(root) {
    each(root, "[data-job-url]", function (row) {
      if (row.classList.contains("done") || row.classList.contains("failed")) { return; }
      var timer = setInterval(function () {
        if (!document.body.contains(row)) { clearInterval(timer); return; }
        fetch(row.getAttribute("data-job-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (job) {
            if (!job) { clearInterval(timer); return; }
            var status = row.querySelector(".job-status .state");
            status.textContent = job.status_display;
            status.className = "state " + job.status;
            var bar = row.querySelector("progress");
            bar.max = job.total || 1;
            bar.value = job.status === "done" ? (job.total || 1) : job.done;
            row.querySelector(".job-note").textContent = job.note + (job.total ? " (" + job.done + "/" + job.total + ")" : "");
            if (job.finished) {
              clearInterval(timer);
              row.className = "job " + job.status;
              var outcome = row.querySelector(".job-outcome");
              outcome.textContent = job.error || Object.keys(job.outcome).map(function (k) { return k + ": " + JSON.stringify(job.outcome[k]); }).join(" · ");
              announce(job.label + ": " + job.status_display);
              if (row.hasAttribute("data-reload") && job.status === "done") {
                if (window.htmx) { window.htmx.ajax("GET", window.location.href, { target: "#page", select: "#page", swap: "outerHTML" }); } else { window.location.reload(); }
              }
            }
          })
          .catch(function () { clearInterval(timer); });
      }, 1500);
    });
  }

  /* Tabs (track pictures). */
  function setupTabs(root) {
    each(root, "[role=tablist]", function (list) {
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

  /* The builder's seed pickers: search the whole catalogue as you type (tracks and artists, or one destination
     track) and add what you choose as a chip, without reloading, so the other settings stay. A combobox with
     a listbox: arrows move, Enter chooses, Escape closes. */
  function setupPickers(root) {
    each(root, "[data-picker]", function (picker) {
      var kind = picker.getAttribute("data-picker");
      var input = picker.querySelector("input[role=combobox]");
      var options = picker.querySelector("[role=listbox]");
      var chips = document.querySelector(picker.getAttribute("data-list"));
      var max = Number(picker.getAttribute("data-max") || 5);
      var pending = null, asked = null, active = -1, found = [];

      function close() { options.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
      function mark(i) {
        var items = options.querySelectorAll("[role=option]");
        items.forEach(function (item, n) { item.setAttribute("aria-selected", n === i ? "true" : "false"); });
        active = i;
        if (items[i]) { input.setAttribute("aria-activedescendant", items[i].id); items[i].scrollIntoView({ block: "nearest" }); }
      }
      function chip(name, value, text, sub, type) {
        var li = document.createElement("li");
        li.className = "chip" + (name === "seed_artists" ? " artist" : "");
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = type; box.name = name; box.value = value; box.checked = true;
        var muted = document.createElement("span");
        muted.className = "muted"; muted.textContent = sub;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + text + " "));
        label.appendChild(muted);
        li.appendChild(label);
        if (type === "checkbox") {
          var remove = document.createElement("button");
          remove.type = "button"; remove.className = "chip-remove"; remove.textContent = "✕";
          remove.setAttribute("aria-label", "Remove " + text);
          remove.addEventListener("click", function () { li.remove(); announce(text + " removed."); input.focus(); });
          li.appendChild(remove);
        }
        return li;
      }
      function choose(entry) {
        if (kind === "destination") {
          chips.querySelectorAll("li.chip:not(.off)").forEach(function (li) { li.remove(); });
          chips.appendChild(chip("path_to", entry.id, entry.title, entry.artist || "", "radio"));
          announce(entry.title + " is the destination.");
        } else {
          var name = entry.kind === "artist" ? "seed_artists" : "seeds";
          var existing = chips.querySelector("input[name=" + name + "][value='" + entry.id + "']");
          if (existing) { existing.checked = true; announce(entry.title + " is already a seed."); }
          else {
            var count = chips.querySelectorAll("input[name=" + name + "]:checked").length;
            if (count >= max) { flash("At most " + max + (name === "seeds" ? " seed tracks" : " seed artists") + ": remove one first.", "warning"); return; }
            chips.querySelectorAll("li.found").forEach(function (li) { if (!li.querySelector("input:checked")) { li.remove(); } });
            chips.appendChild(chip(name, entry.id, entry.title, entry.kind === "artist" ? "artist" : (entry.artist || ""), "checkbox"));
            announce(entry.title + " added to the seeds.");
          }
        }
        input.value = "";
        asked = null;
        close();
        input.focus();
      }
      function show(answer) {
        options.textContent = "";
        found = [];
        if (kind !== "destination") {
          (answer.artists || []).forEach(function (artist) { found.push({ kind: "artist", id: artist.id, title: artist.name, artist: "" }); });
        }
        answer.results.forEach(function (track) { found.push({ kind: "track", id: track.id, title: track.title, artist: track.artist }); });
        found.forEach(function (entry, i) {
          var item = document.createElement("li");
          item.id = input.id + "-option-" + i;
          item.setAttribute("role", "option");
          item.setAttribute("aria-selected", "false");
          item.className = "picker-option" + (entry.kind === "artist" ? " artist" : "");
          item.textContent = entry.kind === "artist" ? entry.title + " — artist" : entry.title + (entry.artist ? " — " + entry.artist : "");
          item.addEventListener("mousedown", function (event) { event.preventDefault(); });
          item.addEventListener("click", function () { choose(entry); });
          options.appendChild(item);
        });
        if (!found.length) {
          var none = document.createElement("li");
          none.className = "picker-none"; none.textContent = "Nothing matches “" + answer.query + "”.";
          options.appendChild(none);
        }
        options.hidden = false;
        input.setAttribute("aria-expanded", "true");
        active = -1;
      }
      function search() {
        var query = input.value.trim();
        if (!query) { close(); asked = null; return; }
        if (query === asked) { return; }
        asked = query;
        fetch(picker.getAttribute("data-search-url") + "?q=" + encodeURIComponent(query), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { query: query, results: [], artists: [] }; })
          .then(function (answer) { if (answer.query === input.value.trim()) { show(answer); } })
          .catch(function () { /* the Search button still works */ });
      }
      input.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(search, 150); });
      input.addEventListener("keydown", function (event) {
        var count = options.querySelectorAll("[role=option]").length;
        if (event.key === "ArrowDown") { event.preventDefault(); if (options.hidden) { search(); } else if (count) { mark((active + 1) % count); } }
        else if (event.key === "ArrowUp") { event.preventDefault(); if (count) { mark((active - 1 + count) % count); } }
        else if (event.key === "Enter") {
          event.preventDefault();  // never submits the search form: with JavaScript, results come as you type
          if (active >= 0 && found[active]) { choose(found[active]); } else if (found.length === 1) { choose(found[0]); } else { search(); }
        }
        else if (event.key === "Escape") { close(); }
      });
      input.addEventListener("blur", function () { setTimeout(close, 150); });
    });
  }

  /* Drag a playlist row by its handle to another place (mouse, pen or touch); the new order is saved in place. */
  function setupReorder(root) {
    each(root, "#playlist-items", function (list) {
      var form = document.getElementById("reorder-form");
      if (!form) { return; }
      list.addEventListener("pointerdown", function (event) {
        var handle = event.target.closest(".drag-handle");
        if (!handle || event.button !== 0) { return; }
        var row = handle.closest("li");
        var before = Array.prototype.map.call(list.children, function (li) { return li.getAttribute("data-item-id"); }).join(",");
        event.preventDefault();
        try { handle.setPointerCapture(event.pointerId); } catch (e) { /* the document listeners below do without */ }
        row.classList.add("dragging");
        function move(moveEvent) {
          var rows = Array.prototype.slice.call(list.children);
          var over = rows.find(function (other) {
            var box = other.getBoundingClientRect();
            return other !== row && moveEvent.clientY >= box.top && moveEvent.clientY <= box.bottom;
          });
          if (!over) { return; }
          var box = over.getBoundingClientRect();
          list.insertBefore(row, moveEvent.clientY < box.top + box.height / 2 ? over : over.nextSibling);
        }
        function drop() {
          document.removeEventListener("pointermove", move);
          document.removeEventListener("pointerup", drop);
          document.removeEventListener("pointercancel", drop);
          row.classList.remove("dragging");
          var after = Array.prototype.map.call(list.children, function (li) { return li.getAttribute("data-item-id"); }).join(",");
          if (after === before) { return; }
          form.querySelector("input[name=order]").value = after;
          announce(row.getAttribute("data-title") + " moved; saving the new order.");
          if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
        }
        document.addEventListener("pointermove", move);
        document.addEventListener("pointerup", drop);
        document.addEventListener("pointercancel", drop);
      });
      // Keyboard: the handle moves its row with the arrow keys (the ↑/↓ buttons do the same).
      list.addEventListener("keydown", function (event) {
        var handle = event.target.closest(".drag-handle");
        if (!handle || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) { return; }
        event.preventDefault();
        var button = handle.closest("li").querySelector(event.key === "ArrowUp" ? "[id^=up-]" : "[id^=down-]");
        if (button && !button.disabled) { button.click(); }
      });
    });
  }

  function enhance(root) {
    setupSliders(root);
    setupJobs(root);
    setupTabs(root);
    setupPickers(root);
    setupReorder(root);
    if (Player) { Player.highlight(); }
  }

  /* htmx: a page that is not ours (an error page without the site's shell) is loaded whole, not swapped. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400 || /id="page"/.test(xhr.responseText || "")) { return; }
    event.detail.shouldSwap = false;
    var verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "get";
    if (verb === "get") { window.location.href = xhr.responseURL || event.detail.pathInfo.requestPath; }
    else { flash("That did not work (the server answered " + xhr.status + "); nothing was changed. Reload the page and try again.", "error"); }
  });
  document.addEventListener("htmx:sendError", function () { flash("The server could not be reached; check the connection and try again.", "error"); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function (event) {
    // After a navigation, focus goes to the new page's content (for screen readers and keyboards), without scrolling.
    var boosted = event.detail.boosted || (event.detail.requestConfig && event.detail.requestConfig.boosted);
    if (boosted) {
      var main = document.getElementById("main");
      if (main) { main.focus({ preventScroll: true }); }
    }
  });

  function start() { enhance(document.body); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
