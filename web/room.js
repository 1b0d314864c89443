// The messenger's call page: camera and microphone to one partner through
// one RTCPeerConnection, signaling over /ws?room=<id> (docs/protocol.md).
//
// On the wire it does exactly what the messenger's own page does, quirks
// included, because agents are tested against it (docs/protocol.md,
// "The page's negotiation rules"):
//  - WebSocket open -> camera+mic -> peer connection -> {"type":"join","room":id}
//    (no data); one second later, unless an offer or answer has arrived, it
//    marks itself the initiator;
//  - while initiator, every `join` it receives makes it create and send an
//    offer (a duplicate join gives a duplicate offer);
//  - it answers offers (an offer that arrives before its peer connection
//    exists is lost), applies answers, adds candidates at once (a candidate
//    that arrives before its description fails and is lost: no queue);
//  - descriptions and candidates go out as JSON *strings* in `data`, chat as
//    a plain string; no end-of-candidates frame;
//  - `leave` shows the partner as gone and keeps the peer connection;
//  - connection `failed` -> a new peer connection and a new offer.
// Everything else (mute, camera off, presets, devices, chat panel, full
// screen, picture-in-picture, status line) never renegotiates.
//
// Query parameters: ice=none | ice=URL[,URL...] (default: Google's public
// STUN), video=4k|1080p|720p|480p, fps=60|30|24, audio=high|medium|low.
// TURN with long-term credentials: turn=URL[,URL...] with turn_user= and
// turn_pass= (one iceServers entry, added to what ice= gives), e.g.
// ?ice=none&turn=turn:h:3478?transport=udp,turns:h:5349&turn_user=u&turn_pass=p;
// relay=1 sets iceTransportPolicy 'relay' (only relayed candidates: the
// call goes through the TURN server or not at all). Without them the page
// does what it always did.
//
// For tests, window.callagentPage is a read-only view: state(), stats(),
// chatLog, wire (frames in and out with times) and events.
'use strict';

(() => {
  const VIDEO_PRESETS = {
    '4k': {width: 3840, height: 2160},
    '1080p': {width: 1920, height: 1080},
    '720p': {width: 1280, height: 720},
    '480p': {width: 854, height: 480},
  };
  const FPS_PRESETS = [60, 30, 24];
  const AUDIO_PRESETS = {
    high: {sampleRate: 48000, channelCount: 2},
    medium: {sampleRate: 44100, channelCount: 2},
    low: {sampleRate: 32000, channelCount: 1},
  };
  const DEFAULT_ICE = [{urls: 'stun:stun.l.google.com:19302'}];
  const INITIATOR_AFTER_MS = 1000;
  const MAX_LOG = 2000;

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const roomId = decodeURIComponent(location.pathname.replace(/^\/room\//, '').replace(/\/+$/, ''));

  function stored(key, allowed, fallback) {
    const fromUrl = params.get(key);
    if (fromUrl !== null && allowed.includes(fromUrl)) return fromUrl;
    try {
      const v = localStorage.getItem('callagent.' + key);
      if (v !== null && allowed.includes(v)) return v;
    } catch (_) { /* storage disabled */ }
    return fallback;
  }
  function remember(key, value) {
    try { localStorage.setItem('callagent.' + key, value); } catch (_) { /* storage disabled */ }
  }

  const settings = {
    video: stored('video', Object.keys(VIDEO_PRESETS), '1080p'),
    fps: Number(stored('fps', FPS_PRESETS.map(String), '30')),
    audio: stored('audio', Object.keys(AUDIO_PRESETS), 'high'),
    cameraId: null,
    micId: null,
  };

  function iceServers() {
    const v = params.get('ice');
    let servers;
    if (v === null || v === '') servers = DEFAULT_ICE;
    else if (v === 'none') servers = [];
    else servers = v.split(',').filter(Boolean).map((urls) => ({urls}));
    // A TURN URL's own ?transport= holds no comma, so a list splits safely.
    const turn = (params.get('turn') || '').split(',').filter(Boolean);
    if (!turn.length) return servers;
    const entry = {urls: turn};
    if (params.get('turn_user') !== null) entry.username = params.get('turn_user');
    if (params.get('turn_pass') !== null) entry.credential = params.get('turn_pass');
    return servers.concat([entry]);
  }
  function peerConnectionConfig() {
    const config = {iceServers: iceServers()};
    if (params.get('relay') === '1') config.iceTransportPolicy = 'relay';
    return config;
  }

  // ---- state ---------------------------------------------------------------
  let ws = null;
  let pc = null;
  let pcGeneration = 0;
  let localStream = null;
  let remoteStream = null;
  let isInitiator = false;
  let gotDescription = false;  // an offer or answer arrived (the 1 s rule)
  let partnerPresent = false;
  let hungUp = false;
  let micMuted = false;
  let camOff = false;
  let connectedAt = null;
  let firstFrameAt = null;
  let joinSentAt = null;
  let unreadChat = 0;

  const wire = [];    // {t, dir, type, user, summary}
  const events = [];  // {t, text}
  const chatLog = []; // {t, from: 'me'|'partner', text}

  function cap(list, item) {
    list.push(item);
    if (list.length > MAX_LOG) list.splice(0, list.length - MAX_LOG);
  }
  function note(text) {
    cap(events, {t: Date.now(), text});
    console.log('[callagent] ' + text);
  }

  // ---- status line -----------------------------------------------------------
  let statusBase = 'Starting…';
  let statusDetail = '';
  let statusKind = '';
  function setStatus(text, kind) {
    statusBase = text;
    if (kind !== undefined) statusKind = kind;
    renderStatus();
  }
  function renderStatus() {
    $('statusText').textContent = statusDetail ? `${statusBase} · ${statusDetail}` : statusBase;
    $('status').className = statusKind;
  }
  function showPlaceholder(text) {
    const p = $('placeholder');
    p.textContent = text || '';
    p.hidden = !text;
  }

  // ---- signaling -------------------------------------------------------------
  function summarize(type, data) {
    try {
      const d = typeof data === 'string' && (type === 'offer' || type === 'answer' || type === 'ice-candidate')
        ? JSON.parse(data) : data;
      if (type === 'offer' || type === 'answer') {
        const m = /a=ice-ufrag:(\S+)/.exec(d.sdp || '');
        return `ufrag ${m ? m[1] : '?'}`;
      }
      if (type === 'ice-candidate') return `${d.sdpMid} ${d.candidate}`;
      if (type === 'chat') return String(d);
    } catch (_) { /* keep it short */ }
    return data === undefined ? '' : JSON.stringify(data);
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      note(`not sent (socket not open): ${frame.type}`);
      return false;
    }
    ws.send(JSON.stringify(frame));
    cap(wire, {t: Date.now(), dir: 'out', type: frame.type, user: '', summary: summarize(frame.type, frame.data)});
    return true;
  }

  function parseData(data) {
    // The page sends the string form; accept the object form too.
    return typeof data === 'string' ? JSON.parse(data) : data;
  }

  function openSocket() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(`${proto}//${location.host}/ws?room=${encodeURIComponent(roomId)}`);
    setStatus('Connecting to the server…', '');
    ws.onopen = onSocketOpen;
    ws.onmessage = (e) => onFrame(e.data);
    ws.onclose = (e) => {
      note(`socket closed (code ${e.code})`);
      if (hungUp) return;
      if (statusKind !== 'error') setStatus('Disconnected from the server', 'error');
      showEnded('The connection to the server was lost.');
    };
  }

  async function onSocketOpen() {
    note('socket open');
    setStatus('Starting camera and microphone…');
    try {
      localStream = await getMedia();
    } catch (err) {
      note(`camera/microphone unavailable: ${err.name}: ${err.message}`);
      setStatus('No camera or microphone: receiving only', 'error');
      localStream = null;
    }
    $('localVideo').srcObject = localStream;
    refreshDevices();
    createPeerConnection();
    send({type: 'join', room: roomId});
    joinSentAt = Date.now();
    if (statusKind !== 'error') setStatus('Waiting for the other person…');
    setTimeout(() => {
      if (!gotDescription) {
        isInitiator = true;
        note('no offer or answer after 1 s: initiator');
      }
    }, INITIATOR_AFTER_MS);
  }

  function onFrame(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (_) { return; }
    if (!msg || typeof msg !== 'object') return;
    cap(wire, {t: Date.now(), dir: 'in', type: msg.type || (msg.error ? 'error' : '?'), user: msg.user || '',
      summary: msg.error ? msg.error : summarize(msg.type, msg.data)});
    if (msg.error) {
      note(`server error: ${msg.error}`);
      setStatus(msg.error === 'room full' ? 'This call already has two people' :
        msg.error === 'room not found' ? 'There is no such meeting' : `Server error: ${msg.error}`, 'error');
      hungUp = true;  // the server closes the socket; nothing to retry
      return;
    }
    switch (msg.type) {
      case 'join':
        partnerPresent = true;
        setStatus('The other person joined', '');
        if (isInitiator) makeOffer('join received');
        break;
      case 'offer':
        gotDescription = true;
        onOffer(msg.data);
        break;
      case 'answer':
        gotDescription = true;
        onAnswer(msg.data);
        break;
      case 'ice-candidate':
        onCandidate(msg.data);
        break;
      case 'chat':
        addChat('partner', typeof msg.data === 'string' ? msg.data : JSON.stringify(msg.data));
        break;
      case 'leave':
        partnerPresent = false;
        note('partner left (peer connection kept)');
        setStatus('The other person left', '');
        showPlaceholder('The other person left the call.');
        break;
      default:
        break;
    }
  }

  async function makeOffer(why) {
    if (!pc) return;
    const mine = pc;
    try {
      note(`offering: ${why}`);
      const offer = await mine.createOffer();
      await mine.setLocalDescription(offer);
      send({type: 'offer', data: JSON.stringify(mine.localDescription), room: roomId});
    } catch (err) {
      note(`offer failed: ${err.name}: ${err.message}`);
    }
  }

  async function onOffer(data) {
    if (!pc) {
      note('offer lost: no peer connection yet');
      return;
    }
    const mine = pc;
    try {
      await mine.setRemoteDescription(parseData(data));
      const answer = await mine.createAnswer();
      await mine.setLocalDescription(answer);
      send({type: 'answer', data: JSON.stringify(mine.localDescription), room: roomId});
    } catch (err) {
      note(`answering failed: ${err.name}: ${err.message}`);
    }
  }

  async function onAnswer(data) {
    if (!pc) return;
    try {
      await pc.setRemoteDescription(parseData(data));
    } catch (err) {
      note(`applying the answer failed: ${err.name}: ${err.message}`);
    }
  }

  async function onCandidate(data) {
    if (!pc) {
      note('candidate lost: no peer connection yet');
      return;
    }
    try {
      await pc.addIceCandidate(parseData(data));
    } catch (err) {
      // As the messenger's page: no queue, the candidate is lost.
      note(`candidate failed: ${err.name}: ${err.message}`);
    }
  }

  // ---- peer connection -------------------------------------------------------
  function createPeerConnection() {
    const gen = ++pcGeneration;
    const config = peerConnectionConfig();
    let mine;
    try {
      mine = new RTCPeerConnection(config);
    } catch (err) {
      // A malformed TURN URL throws here; say so instead of a dead page.
      setStatus(`Bad ICE settings in the address: ${err.message}`, 'error');
      note(`RTCPeerConnection failed: ${err.name}: ${err.message}`);
      throw err;
    }
    if (config.iceTransportPolicy === 'relay') note('ICE: relay only');
    pc = mine;
    connectedAt = null;
    firstFrameAt = null;
    if (localStream) {
      for (const track of localStream.getTracks()) mine.addTrack(track, localStream);
    } else {
      mine.addTransceiver('audio', {direction: 'recvonly'});
      mine.addTransceiver('video', {direction: 'recvonly'});
    }
    remoteStream = new MediaStream();
    mine.onicecandidate = (e) => {
      if (e.candidate) send({type: 'ice-candidate', data: JSON.stringify(e.candidate), room: roomId});
    };
    mine.ontrack = (e) => {
      if (mine !== pc) return;
      if (!remoteStream.getTracks().includes(e.track)) remoteStream.addTrack(e.track);
      // Set srcObject again for each new track: Chromium's player, once
      // loaded with an empty stream, does not start for tracks added later.
      $('remoteVideo').srcObject = remoteStream;
      playRemote();
      if (e.track.kind === 'video') watchFirstFrame(gen);
    };
    mine.onconnectionstatechange = () => {
      if (mine !== pc) return;
      const s = mine.connectionState;
      note(`connection ${s}`);
      if (s === 'connected') {
        connectedAt = Date.now();
        setStatus('Connected', 'connected');
        showPlaceholder('');
      } else if (s === 'connecting') {
        setStatus('Connecting…', '');
      } else if (s === 'disconnected') {
        setStatus('Connection interrupted…', 'error');
      } else if (s === 'failed') {
        setStatus('Connection failed: trying again', 'error');
        mine.close();
        createPeerConnection();
        makeOffer('the connection failed');
      }
    };
    note(`peer connection ${gen} created`);
  }

  function watchFirstFrame(gen) {
    const v = $('remoteVideo');
    const mark = () => {
      if (gen === pcGeneration && firstFrameAt === null) {
        firstFrameAt = Date.now();
        note(`first remote frame ${v.videoWidth}x${v.videoHeight}`);
      }
    };
    // A hidden tab renders nothing (no frame callback); `resize` (the
    // first frame's size) still fires there.
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(mark);
    v.addEventListener('resize', mark, {once: true});
  }

  function playRemote() {
    const v = $('remoteVideo');
    v.play().catch((err) => {
      // A new srcObject aborts the previous play(): not a refusal.
      if (err.name !== 'NotAllowedError') return;
      // Autoplay with sound needs a gesture: play muted, offer a button.
      v.muted = true;
      v.play().catch(() => {});
      $('unmuteButton').hidden = false;
    });
  }

  // ---- media -----------------------------------------------------------------
  function videoConstraints() {
    const p = VIDEO_PRESETS[settings.video];
    const c = {width: {ideal: p.width}, height: {ideal: p.height}, frameRate: {ideal: settings.fps}};
    if (settings.cameraId) c.deviceId = {exact: settings.cameraId};
    return c;
  }
  function audioConstraints() {
    const p = AUDIO_PRESETS[settings.audio];
    const c = {
      sampleRate: {ideal: p.sampleRate},
      channelCount: {ideal: p.channelCount},
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    };
    if (settings.micId) c.deviceId = {exact: settings.micId};
    return c;
  }
  async function getMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error('this browser has no getUserMedia (a secure origin is needed: https or localhost)');
    }
    return navigator.mediaDevices.getUserMedia({video: videoConstraints(), audio: audioConstraints()});
  }

  function senderFor(kind) {
    if (!pc) return null;
    return pc.getSenders().find((s) => s.track && s.track.kind === kind) ||
      pc.getTransceivers().find((t) => t.receiver.track && t.receiver.track.kind === kind && t.sender)?.sender || null;
  }

  // Swaps in a new local track of `kind` without renegotiating.
  async function replaceLocalTrack(kind, track) {
    const old = localStream ? localStream.getTracks().find((t) => t.kind === kind) : null;
    track.enabled = kind === 'audio' ? !micMuted : !camOff;
    const sender = senderFor(kind);
    if (sender) await sender.replaceTrack(track);
    if (!localStream) localStream = new MediaStream();
    if (old) {
      localStream.removeTrack(old);
      old.stop();
    }
    localStream.addTrack(track);
    $('localVideo').srcObject = localStream;
  }

  async function applyVideoSettings(reacquire) {
    const track = localStream && localStream.getVideoTracks()[0];
    try {
      if (track && !reacquire) {
        await track.applyConstraints(videoConstraints());
      } else {
        if (track) track.stop();  // a camera may not open twice
        const s = await navigator.mediaDevices.getUserMedia({video: videoConstraints()});
        await replaceLocalTrack('video', s.getVideoTracks()[0]);
      }
      const st = localStream.getVideoTracks()[0].getSettings();
      note(`video now ${st.width}x${st.height} @ ${st.frameRate} fps`);
      showSettingsInfo();
    } catch (err) {
      note(`video settings failed: ${err.name}: ${err.message}`);
      $('settingsInfo').textContent = `Camera: ${err.message || err.name}`;
    }
  }

  async function applyAudioSettings() {
    // Browsers do not reopen a microphone for a new sample rate or channel
    // count through applyConstraints: take a new track and swap it in.
    try {
      const old = localStream && localStream.getAudioTracks()[0];
      if (old && settings.micId && old.getSettings().deviceId !== settings.micId) old.stop();
      const s = await navigator.mediaDevices.getUserMedia({audio: audioConstraints()});
      await replaceLocalTrack('audio', s.getAudioTracks()[0]);
      const st = localStream.getAudioTracks()[0].getSettings();
      note(`audio now ${st.sampleRate || '?'} Hz, ${st.channelCount || '?'} channel(s)`);
      showSettingsInfo();
    } catch (err) {
      note(`audio settings failed: ${err.name}: ${err.message}`);
      $('settingsInfo').textContent = `Microphone: ${err.message || err.name}`;
    }
  }

  function showSettingsInfo() {
    if (!localStream) return;
    const v = localStream.getVideoTracks()[0];
    const a = localStream.getAudioTracks()[0];
    const parts = [];
    if (v) {
      const s = v.getSettings();
      parts.push(`camera ${s.width}×${s.height} @ ${Math.round(s.frameRate || 0)} fps`);
    }
    if (a) {
      const s = a.getSettings();
      parts.push(`microphone ${s.sampleRate ? s.sampleRate / 1000 + ' kHz' : ''} ${s.channelCount === 1 ? 'mono' : s.channelCount ? 'stereo' : ''}`.trim());
    }
    $('settingsInfo').textContent = parts.length ? 'Now: ' + parts.join(', ') : '';
  }

  async function refreshDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, current) => {
      select.textContent = '';
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`;
        select.appendChild(o);
      });
      if (current) select.value = current;
    };
    const v = localStream && localStream.getVideoTracks()[0];
    const a = localStream && localStream.getAudioTracks()[0];
    fill($('cameraSelect'), 'videoinput', settings.cameraId || (v && v.getSettings().deviceId));
    fill($('micSelect'), 'audioinput', settings.micId || (a && a.getSettings().deviceId));
  }

  // ---- chat ------------------------------------------------------------------
  function addChat(from, text) {
    const entry = {t: Date.now(), from, text};
    cap(chatLog, entry);
    const li = document.createElement('li');
    li.className = from === 'me' ? 'me' : 'partner';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = `${from === 'me' ? 'You' : 'Partner'} · ${new Date(entry.t).toLocaleTimeString()}`;
    li.append(who, document.createTextNode(text));
    $('chatLog').appendChild(li);
    li.scrollIntoView({block: 'end'});
    if (from !== 'me' && $('chat').hidden) {
      unreadChat += 1;
      $('chatButton').querySelector('.label').textContent = `Chat (${unreadChat})`;
    }
  }

  // ---- controls --------------------------------------------------------------
  function setPressed(button, pressed, label) {
    button.setAttribute('aria-pressed', String(pressed));
    button.classList.toggle('off', pressed);
    button.querySelector('.label').textContent = label;
  }

  function hangUp() {
    hungUp = true;
    if (ws) ws.close();
    if (pc) pc.close();
    pc = null;
    if (localStream) localStream.getTracks().forEach((t) => t.stop());
    setStatus('You left the call', '');
    showEnded('You left the call.');
  }

  function showEnded(text) {
    $('endedText').textContent = text;
    $('ended').hidden = false;
  }

  function wireControls() {
    $('micButton').onclick = () => {
      micMuted = !micMuted;
      if (localStream) localStream.getAudioTracks().forEach((t) => { t.enabled = !micMuted; });
      setPressed($('micButton'), micMuted, micMuted ? 'Unmute' : 'Mute');
    };
    $('camButton').onclick = () => {
      camOff = !camOff;
      if (localStream) localStream.getVideoTracks().forEach((t) => { t.enabled = !camOff; });
      setPressed($('camButton'), camOff, camOff ? 'Camera on' : 'Camera off');
    };
    $('chatButton').onclick = () => {
      const chat = $('chat');
      chat.hidden = !chat.hidden;
      if (!chat.hidden) {
        unreadChat = 0;
        $('chatButton').querySelector('.label').textContent = 'Chat';
        $('chatInput').focus();
      }
    };
    $('chatClose').onclick = () => { $('chat').hidden = true; };
    $('chatForm').onsubmit = (e) => {
      e.preventDefault();
      const input = $('chatInput');
      const text = input.value;
      if (!text.trim()) return;
      if (send({type: 'chat', data: text, room: roomId})) {
        addChat('me', text);
        input.value = '';
      }
    };
    $('settingsButton').onclick = () => {
      $('videoPreset').value = settings.video;
      $('fpsPreset').value = String(settings.fps);
      $('audioPreset').value = settings.audio;
      refreshDevices();
      showSettingsInfo();
      $('settings').showModal();
    };
    $('videoPreset').onchange = (e) => {
      settings.video = e.target.value;
      remember('video', settings.video);
      applyVideoSettings(false);
    };
    $('fpsPreset').onchange = (e) => {
      settings.fps = Number(e.target.value);
      remember('fps', String(settings.fps));
      applyVideoSettings(false);
    };
    $('audioPreset').onchange = (e) => {
      settings.audio = e.target.value;
      remember('audio', settings.audio);
      applyAudioSettings();
    };
    $('cameraSelect').onchange = (e) => {
      settings.cameraId = e.target.value;
      applyVideoSettings(true);
    };
    $('micSelect').onchange = (e) => {
      settings.micId = e.target.value;
      applyAudioSettings();
    };
    $('fullscreenButton').onclick = () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else if ($('stage').requestFullscreen) $('stage').requestFullscreen().catch((err) => note(`fullscreen: ${err.message}`));
    };
    if (!document.pictureInPictureEnabled) $('pipButton').disabled = true;
    $('pipButton').onclick = () => {
      if (document.pictureInPictureElement) document.exitPictureInPicture();
      else $('remoteVideo').requestPictureInPicture().catch((err) => note(`picture-in-picture: ${err.message}`));
    };
    $('hangupButton').onclick = hangUp;
    $('rejoin').onclick = () => location.reload();
    $('unmuteButton').onclick = () => {
      const v = $('remoteVideo');
      v.muted = false;
      v.play().catch(() => {});
      $('unmuteButton').hidden = true;
    };
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener('devicechange', refreshDevices);
    }
  }

  // ---- stats -----------------------------------------------------------------
  async function stats() {
    const out = {
      connected: !!pc && pc.connectionState === 'connected',
      connectionState: pc ? pc.connectionState : 'none',
      iceConnectionState: pc ? pc.iceConnectionState : 'none',
      signalingState: pc ? pc.signalingState : 'none',
      inboundVideo: null,
      inboundAudio: null,
      outboundVideo: null,
      outboundAudio: null,
      selectedPair: null,
    };
    if (!pc) return out;
    const report = await pc.getStats();
    const codec = (s) => (s.codecId && report.get(s.codecId) ? report.get(s.codecId).mimeType : null);
    // The transport names the pair in use; nominated+succeeded alone may
    // match an older pair too.
    let selectedId = null;
    report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) selectedId = s.selectedCandidatePairId; });
    // After a renegotiation with a new partner (a new SSRC) the old inbound
    // stream stays in the report: take the one that received last.
    const latest = {};
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const cur = latest[s.kind];
      if (!cur || (s.lastPacketReceivedTimestamp || 0) > (cur.lastPacketReceivedTimestamp || 0)) latest[s.kind] = s;
    });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.id !== latest[s.kind].id) return;
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.inboundVideo = {
          ssrc: s.ssrc, framesDecoded: s.framesDecoded || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
          frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0,
          framesPerSecond: s.framesPerSecond || 0, packetsReceived: s.packetsReceived || 0,
          packetsLost: s.packetsLost || 0, bytesReceived: s.bytesReceived || 0,
          pliCount: s.pliCount || 0, firCount: s.firCount || 0, nackCount: s.nackCount || 0,
          codec: codec(s),
        };
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inboundAudio = {packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
          bytesReceived: s.bytesReceived || 0, codec: codec(s)};
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.outboundVideo = {framesEncoded: s.framesEncoded || 0, frameWidth: s.frameWidth || 0,
          frameHeight: s.frameHeight || 0, framesPerSecond: s.framesPerSecond || 0,
          packetsSent: s.packetsSent || 0, pliCount: s.pliCount || 0, firCount: s.firCount || 0,
          codec: codec(s)};
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outboundAudio = {packetsSent: s.packetsSent || 0, codec: codec(s)};
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' &&
                 (!selectedId || s.id === selectedId)) {
        const l = report.get(s.localCandidateId);
        const r = report.get(s.remoteCandidateId);
        out.selectedPair = {
          local: l ? `${l.address || l.ip}:${l.port} ${l.protocol} ${l.candidateType}` : null,
          remote: r ? `${r.address || r.ip}:${r.port} ${r.protocol} ${r.candidateType}` : null,
          localType: l ? l.candidateType : null,
          remoteType: r ? r.candidateType : null,
          protocol: l ? l.protocol : null,
          // How a relay candidate reaches its TURN server (udp, tcp, tls).
          relayProtocol: l && l.relayProtocol ? l.relayProtocol : null,
        };
      }
    });
    return out;
  }

  // The status line's live part: what comes in, once a second.
  let lastBytes = null;
  async function tickStats() {
    if (!pc || pc.connectionState !== 'connected') {
      if (statusDetail) { statusDetail = ''; renderStatus(); }
      lastBytes = null;
      return;
    }
    try {
      const s = await stats();
      const v = s.inboundVideo;
      const bytes = (v ? v.bytesReceived : 0) + (s.inboundAudio ? s.inboundAudio.bytesReceived : 0);
      const rate = lastBytes === null ? null : ((bytes - lastBytes) * 8) / 1e6;
      lastBytes = bytes;
      const parts = [];
      if (v && v.frameWidth) parts.push(`${v.frameWidth}×${v.frameHeight} ${Math.round(v.framesPerSecond)} fps`);
      if (rate !== null && rate >= 0) parts.push(`${rate.toFixed(2)} Mbit/s in`);
      if (v && v.codec) parts.push(v.codec.replace('video/', ''));
      statusDetail = parts.join(' · ');
      renderStatus();
    } catch (_) { /* the pc may have closed meanwhile */ }
  }

  window.callagentPage = Object.freeze({
    state: () => ({
      room: roomId,
      socket: ws ? ['connecting', 'open', 'closing', 'closed'][ws.readyState] : 'none',
      initiator: isInitiator,
      partnerPresent,
      peerConnections: pcGeneration,
      connectionState: pc ? pc.connectionState : 'none',
      signalingState: pc ? pc.signalingState : 'none',
      connectedAt,
      firstFrameAt,
      joinSentAt,
      micMuted,
      camOff,
      hungUp,
      settings: {...settings},
      status: $('statusText').textContent,
    }),
    stats,
    // Every getStats() entry of one type, as is (diagnostics).
    rawStats: async (type) => {
      if (!pc) return [];
      const r = await pc.getStats();
      return [...r.values()].filter((s) => !type || s.type === type);
    },
    descriptions: () => ({
      local: pc && pc.localDescription ? pc.localDescription.sdp : null,
      remote: pc && pc.remoteDescription ? pc.remoteDescription.sdp : null,
    }),
    chatLog,
    wire,
    events,
  });

  wireControls();
  showPlaceholder('Waiting for the other person…');
  setInterval(tickStats, 1000);
  if (!roomId) {
    setStatus('No room in the address', 'error');
    return;
  }
  openSocket();
})();
