/* The page viewer: OpenSeadragon over the IIIF Image API, one or two pages at a time, a lazy
   thumbnail strip, page jump and deep links (?page=N&q=...), search inside with highlighted
   word boxes (IIIF Content Search 2.0), keyboard and touch. Data comes from data-* attributes
   and two JSON blocks of the page, so no inline script is needed (CSP script-src 'self'). */
(function () {
  "use strict";

  var root = document.getElementById("reader");
  if (!root || typeof window.OpenSeadragon === "undefined") { return; }
  var OSD = window.OpenSeadragon;
  var data = root.dataset;
  var messages = readJson("reader-messages");
  var pages = readJson("reader-pages").map(function (row, index) {
    return { number: index + 1, uid: row[0], width: row[1] || 1000, height: row[2] || 1414,
             label: row[3] || String(index + 1) };
  });
  var byUid = {};
  pages.forEach(function (page) { byUid[page.uid] = page; });
  var TILE = Number(data.tileSize) || 512;
  var state = { page: clamp(Number(data.page) || 1), spread: false, rotation: 0,
                query: data.query || "", hits: {}, hitPages: [], tiles: 0 };

  var osdElement = document.getElementById("reader-osd");
  var strip = document.getElementById("reader-strip");
  var pageInput = document.getElementById("reader-page-input");
  var status = document.getElementById("reader-status");
  var searchPanel = document.getElementById("reader-search");
  var searchInput = document.getElementById("reader-q");
  var searchStatus = document.getElementById("reader-search-status");
  var hitList = document.getElementById("reader-hits");

  var viewer = OSD({
    element: osdElement,
    drawer: "canvas",             // WebGL costs a second to start on phones without a fast GPU
    showNavigationControl: false,
    showNavigator: false,
    preserveViewport: false,
    visibilityRatio: 0.6,
    constrainDuringPan: true,
    minZoomImageRatio: 0.8,
    maxZoomPixelRatio: 2.5,
    springStiffness: 9,
    animationTime: 0.6,
    immediateRender: false,
    imageLoaderLimit: 6,
    timeout: 60000,
    crossOriginPolicy: false,
    keyboardNavEnabled: false,
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    gestureSettingsTouch: { pinchRotate: false, flickEnabled: false, dblClickToZoom: true }
  });

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  function clamp(number) {
    return Math.min(Math.max(1, Math.round(number) || 1), pages.length);
  }

  /* -- what is shown ------------------------------------------------------------------------ */

  function tileSource(page) {
    // The info.json the server would answer, built from what the page already knows: the
    // first tiles are asked for at once, without a round trip for info.json.
    var factors = [1];
    while (Math.max(page.width, page.height) > TILE * factors[factors.length - 1]) {
      factors.push(factors[factors.length - 1] * 2);
    }
    return {
      "@context": "http://iiif.io/api/image/3/context.json",
      id: data.iiif + page.uid, type: "ImageService3", protocol: "http://iiif.io/api/image",
      profile: "level2", width: page.width, height: page.height,
      tiles: [{ width: TILE, height: TILE, scaleFactors: factors }]
    };
  }

  function shownPages(number) {
    if (!state.spread || number === 1) { return [number]; }
    var left = number % 2 === 0 ? number : number - 1;
    return left + 1 <= pages.length ? [left, left + 1] : [left];
  }

  function show(number) {
    state.page = clamp(number);
    var shown = shownPages(state.page);
    var x = 0;
    var sources = shown.map(function (n) {
      var page = pages[n - 1];
      var width = page.width / page.height;
      var source = { tileSource: tileSource(page), x: x, y: 0, width: width };
      x += width + 0.02;
      return source;
    });
    state.shown = shown;
    viewer.open(sources);
    updateControls();
  }

  viewer.addHandler("open", function () {
    viewer.viewport.setRotation(state.rotation, true);
    drawHighlights();
  });
  viewer.addHandler("tile-loaded", function () {
    state.tiles += 1;
    root.dataset.tilesLoaded = String(state.tiles);
  });
  viewer.addHandler("zoom", function (event) {
    root.dataset.zoom = event.zoom.toFixed(4);
  });

  function updateControls() {
    var shown = state.shown || [state.page];
    pageInput.value = String(shown[0]);
    root.dataset.page = String(state.page);
    root.dataset.shown = shown.join(",");
    setDisabled("prev", shown[0] <= 1);
    setDisabled("next", shown[shown.length - 1] >= pages.length);
    status.textContent = format(messages.pageOf, { n: pages[shown[0] - 1].label, total: pages.length });
    markCurrentThumb(shown);
    remember();
  }

  function setDisabled(action, disabled) {
    root.querySelectorAll('[data-action="' + action + '"]').forEach(function (button) {
      button.disabled = disabled;
    });
  }

  function remember() {
    var params = new URLSearchParams(window.location.search);
    params.set("page", String(state.page));
    if (state.query) { params.set("q", state.query); } else { params.delete("q"); }
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  function step(direction) {
    var shown = state.shown || [state.page];
    var target = direction > 0 ? shown[shown.length - 1] + 1 : shown[0] - 1;
    if (target >= 1 && target <= pages.length) { show(target); }
  }

  function zoom(factor) {
    viewer.viewport.zoomBy(factor);
    viewer.viewport.applyConstraints();
  }

  function rotate() {
    state.rotation = (state.rotation + 90) % 360;
    viewer.viewport.setRotation(state.rotation);
    root.dataset.rotation = String(state.rotation);
  }

  function toggleSpread(button) {
    state.spread = !state.spread;
    button.setAttribute("aria-pressed", String(state.spread));
    show(state.page);
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (root.requestFullscreen && !root.classList.contains("is-full")) {
      root.requestFullscreen().catch(function () { root.classList.toggle("is-full"); });
    } else {
      root.classList.toggle("is-full");
    }
  }

  function toggleStrip(button) {
    strip.hidden = !strip.hidden;
    button.setAttribute("aria-pressed", String(!strip.hidden));
  }

  /* -- the thumbnail strip: placeholders for every page, images only near the viewport ------ */

  function buildStrip() {
    var fragment = document.createDocumentFragment();
    pages.forEach(function (page) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "thumb";
      button.dataset.page = String(page.number);
      button.setAttribute("aria-label", format(messages.page, { n: page.label }));
      button.style.aspectRatio = page.width + " / " + page.height;
      var label = document.createElement("span");
      label.textContent = page.label;
      button.appendChild(label);
      fragment.appendChild(button);
    });
    strip.appendChild(fragment);
    if (!("IntersectionObserver" in window)) {
      strip.querySelectorAll(".thumb").forEach(addThumbImage);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          addThumbImage(entry.target);
          observer.unobserve(entry.target);
        }
      });
    }, { root: strip, rootMargin: "0px 400px" });
    strip.querySelectorAll(".thumb").forEach(function (thumb) { observer.observe(thumb); });
  }

  function addThumbImage(thumb) {
    var page = pages[Number(thumb.dataset.page) - 1];
    var image = document.createElement("img");
    image.alt = "";
    image.loading = "lazy";
    image.decoding = "async";
    image.src = data.iiif + page.uid + "/full/120,/0/default.jpg";
    thumb.insertBefore(image, thumb.firstChild);
  }

  function markCurrentThumb(shown) {
    strip.querySelectorAll('.thumb[aria-current="true"]').forEach(function (thumb) {
      thumb.removeAttribute("aria-current");
    });
    shown.forEach(function (number, index) {
      var thumb = strip.children[number - 1];
      if (!thumb) { return; }
      thumb.setAttribute("aria-current", "true");
      if (index === 0 && !strip.hidden) {
        var left = thumb.offsetLeft - strip.clientWidth / 2 + thumb.offsetWidth / 2;
        strip.scrollTo({ left: Math.max(0, left), behavior: "auto" });
      }
    });
  }

  /* -- search inside -------------------------------------------------------------------------- */

  function openSearch(open, quietly) {
    searchPanel.hidden = !open;
    root.querySelectorAll('.reader-tools [data-action="search"]').forEach(function (button) {
      button.setAttribute("aria-expanded", String(open));
    });
    if (open && !quietly) { searchInput.focus(); }
  }

  function search(query, jump) {
    state.query = query.trim();
    state.hits = {};
    state.hitPages = [];
    hitList.textContent = "";
    drawHighlights();
    markHitThumbs();
    remember();
    if (!state.query) { searchStatus.textContent = ""; return; }
    searchStatus.textContent = messages.searching;
    root.dataset.searching = "1";
    fetch(data.search + "?q=" + encodeURIComponent(state.query), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (page) {
      readHits(page);
      listHits();
      drawHighlights();
      markHitThumbs();
      if (jump && state.hitPages.length) { show(state.hitPages[0].number); }
    }).catch(function () {
      searchStatus.textContent = messages.failed;
    }).then(function () {
      delete root.dataset.searching;
      root.dataset.searched = state.query;
    });
  }

  function readHits(answer) {
    var quotes = {};
    (answer.annotations || []).forEach(function (annotationPage) {
      (annotationPage.items || []).forEach(function (annotation) {
        var selector = (annotation.target.selector || [])[0];
        if (selector) { quotes[annotation.target.source] = selector; }
      });
    });
    (answer.items || []).forEach(function (annotation) {
      var target = String(annotation.target);
      var parts = target.split("#xywh=");
      var page = byUid[parts[0].slice(data.canvasPrefix.length)];
      if (!page) { return; }
      var entry = state.hits[page.uid];
      if (!entry) {
        entry = state.hits[page.uid] = { page: page, boxes: [], quote: null };
        state.hitPages.push(page);
      }
      if (quotes[annotation.id]) { entry.quote = quotes[annotation.id]; }
      if (parts[1]) {
        var box = parts[1].split(",").map(Number);
        entry.boxes.push({ x: box[0], y: box[1], w: box[2], h: box[3], text: annotation.body.value });
      }
    });
    state.hitPages.sort(function (a, b) { return a.number - b.number; });
  }

  function listHits() {
    var count = state.hitPages.length;
    searchStatus.textContent = count === 0 ? messages.none
      : count === 1 ? messages.foundOne : format(messages.found, { count: count });
    state.hitPages.forEach(function (page) {
      var entry = state.hits[page.uid];
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.page = String(page.number);
      var number = document.createElement("span");
      number.className = "hit-page";
      number.textContent = format(messages.page, { n: page.label });
      button.appendChild(number);
      if (entry.quote) {
        button.appendChild(document.createTextNode("…" + entry.quote.prefix));
        var mark = document.createElement("mark");
        mark.textContent = entry.quote.exact;
        button.appendChild(mark);
        button.appendChild(document.createTextNode(entry.quote.suffix + "…"));
      }
      item.appendChild(button);
      hitList.appendChild(item);
    });
  }

  function markHitThumbs() {
    Array.prototype.forEach.call(strip.children, function (thumb) {
      var page = pages[Number(thumb.dataset.page) - 1];
      thumb.classList.toggle("has-hits", Boolean(state.hits[page.uid]));
    });
  }

  function drawHighlights() {
    viewer.clearOverlays();
    var shown = state.shown || [state.page];
    var drawn = 0;
    shown.forEach(function (number, index) {
      var entry = state.hits[pages[number - 1].uid];
      var image = viewer.world.getItemAt(index);
      if (!entry || !image) { return; }
      entry.boxes.forEach(function (box) {
        var element = document.createElement("div");
        element.className = "reader-hl";
        element.title = box.text;
        viewer.addOverlay({ element: element,
          location: image.imageToViewportRectangle(box.x, box.y, box.w, box.h) });
        drawn += 1;
      });
    });
    root.dataset.highlights = String(drawn);
  }

  /* -- input: toolbar, forms, keyboard, swipes ---------------------------------------------- */

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    var thumb = event.target.closest(".thumb, .search-hits button");
    if (button && !button.disabled) {
      act(button.dataset.action, button);
    } else if (thumb) {
      show(Number(thumb.dataset.page));
    }
  });

  function act(action, button) {
    var actions = {
      prev: function () { step(-1); },
      next: function () { step(1); },
      "zoom-in": function () { zoom(1.5); },
      "zoom-out": function () { zoom(1 / 1.5); },
      rotate: rotate,
      spread: function () { toggleSpread(button); },
      fullscreen: toggleFullscreen,
      strip: function () { toggleStrip(button); },
      search: function () { openSearch(searchPanel.hidden); }
    };
    if (actions[action]) { actions[action](); }
  }

  document.getElementById("reader-jump").addEventListener("submit", function (event) {
    event.preventDefault();
    show(Number(pageInput.value));
  });

  document.getElementById("reader-search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    search(searchInput.value, true);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (event.key === "Escape" && !searchPanel.hidden) { openSearch(false); return; }
    if (typing) { return; }
    var keys = {
      ArrowLeft: function () { step(-1); }, PageUp: function () { step(-1); },
      ArrowRight: function () { step(1); }, PageDown: function () { step(1); },
      Home: function () { show(1); }, End: function () { show(pages.length); },
      "+": function () { zoom(1.5); }, "=": function () { zoom(1.5); },
      "-": function () { zoom(1 / 1.5); }, "0": function () { viewer.viewport.goHome(); },
      f: toggleFullscreen, r: rotate, "/": function () { openSearch(true); }
    };
    if (keys[event.key]) {
      event.preventDefault();
      event.stopPropagation();
      keys[event.key]();
    }
  }, true);

  // A horizontal swipe turns the page when the page is not zoomed in (then it pans).
  viewer.addHandler("canvas-drag-end", function (event) {
    if (event.pointerType !== "touch" || event.speed < 400) { return; }
    if (viewer.viewport.getZoom() > viewer.viewport.getHomeZoom() * 1.05) { return; }
    var angle = event.direction;
    if (Math.abs(angle) < Math.PI / 5) { step(-1); }
    else if (Math.abs(angle) > Math.PI - Math.PI / 5) { step(1); }
  });

  // The first page first: the strip (and its thumbnails' requests) waits until the page's
  // tiles are in, or a moment, so that it does not delay them.
  var stripBuilt = false;
  function buildStripOnce() {
    if (stripBuilt) { return; }
    stripBuilt = true;
    buildStrip();
    markCurrentThumb(state.shown || [state.page]);
    markHitThumbs();
  }
  viewer.addOnceHandler("open", function () {
    var first = viewer.world.getItemAt(0);
    if (first) {
      first.addOnceHandler("fully-loaded-change", function () { setTimeout(buildStripOnce, 0); });
    }
  });
  setTimeout(buildStripOnce, 2500);

  var deepLinked = new URLSearchParams(window.location.search).has("page");
  show(state.page);
  if (state.query) {
    searchInput.value = state.query;
    openSearch(true, true);
    search(state.query, !deepLinked);
  }
}());
