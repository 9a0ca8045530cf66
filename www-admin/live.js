/*
 * live.js - a small live viewer for the admin panel: subscribes to a
 * world's public channel with EventSource and shows each tick:update; with
 * an access token it also opens the company channel through a single-use
 * ticket (POST /realtime/ticket), as a game client should.
 *
 * Resume rules (docs/ARCHITECTURE.md, "Live updates and their security"):
 * the public stream reconnects by itself and the browser sends Last-Event-ID;
 * a private stream needs a fresh ticket per connection, so on error we ask
 * for a new one and pass the last id as ?last_event_id=.  When the first
 * tick after a reconnect is not last+1 the buffer no longer held what we
 * missed: fetch the snapshot (GET /world, GET /player/me) and go on.
 */
(function () {
  'use strict';
  var MAX_LOG = 20;
  var $ = function (id) { return document.getElementById(id); };
  var count = 0, lastTick = null;

  function log(text) {
    var li = document.createElement('li');
    li.textContent = new Date().toISOString().slice(11, 23) + ' ' + text;
    var ol = $('log');
    ol.insertBefore(li, ol.firstChild);
    while (ol.children.length > MAX_LOG) ol.removeChild(ol.lastChild);
  }

  function onTick(ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { log('bad message'); return; }
    if (lastTick !== null && m.tick > lastTick + 1)
      log('gap: ticks ' + (lastTick + 1) + '..' + (m.tick - 1) + ' missed; resync with GET /world');
    lastTick = m.tick;
    count++;
    $('tick').textContent = String(m.tick);
    $('ts').textContent = m.ts || '-';
    $('count').textContent = String(count);
    log('tick:update ' + m.tick);
  }

  function worldId() {
    var q = new URLSearchParams(location.search).get('world');
    return /^[0-9]{1,12}$/.test(q || '') ? Promise.resolve(q)
      : fetch('/').then(function (r) { return r.json(); })
          .then(function (j) { return String(j.live && j.live.world || 1); });
  }

  function subscribePublic(world) {
    $('world-label').textContent = 'world ' + world;
    var es = new EventSource('/live/world/' + world);
    es.onopen = function () { $('status').textContent = 'open'; };
    es.onerror = function () { $('status').textContent = 'reconnecting'; };
    es.addEventListener('tick:update', onTick);
  }

  function subscribePrivate(token) {
    var lastId = null, es = null;
    function connect() {
      $('private-status').textContent = 'requesting ticket';
      fetch('/realtime/ticket', { method: 'POST', headers: { Authorization: 'Bearer ' + token } })
        .then(function (r) {
          if (!r.ok) throw new Error('ticket refused (' + r.status + ')');
          return r.json();
        })
        .then(function (t) {
          var url = t.path + (lastId ? '&last_event_id=' + encodeURIComponent(lastId) : '');
          es = new EventSource(url);
          es.onopen = function () { $('private-status').textContent = 'company ' + t.company; };
          ['player:update', 'alert'].forEach(function (type) {
            es.addEventListener(type, function (ev) { lastId = ev.lastEventId; log(type + ' ' + ev.data); });
          });
          es.addEventListener('tick:update', function (ev) { lastId = ev.lastEventId; });
          es.onerror = function () {
            /* The ticket was single-use: the browser's own retry would be refused. */
            es.close();
            $('private-status').textContent = 'reconnecting';
            setTimeout(connect, 1000);
          };
        })
        .catch(function (e) {
          $('private-status').textContent = e.message;
          $('private-status').className = 'error';
        });
    }
    connect();
  }

  $('private-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var token = $('token').value.trim();
    $('token').value = '';
    if (token) subscribePrivate(token);
  });
  worldId().then(subscribePublic, function () { $('status').textContent = 'no world'; });
})();
