// The live turn from the browser: the microphone (getUserMedia) at 16 kHz through an
// AudioWorklet as 16-bit PCM frames of 100 ms over the WebSocket of GET /v1/turns/live; interim
// and final transcripts, the grade and the tutor's reply as they come; the reply's PCM played as
// it arrives. `window.liveTurn` holds what happened, for tests.
(() => {
  const SAMPLE_RATE = 16000;
  const $ = (id) => document.getElementById(id);
  const state = (window.liveTurn = { messages: [], finals: [], interims: 0, replyBytes: 0, closeCode: null, firstAudioMs: null, done: false });
  let socket, audioCtx, micStream, endAt, playCtx, playAt = 0, replyRate = 24000;

  function setStatus(text) {
    $('status').textContent = text;
    state.status = text;
  }

  function play(bytes) {
    // Headerless 16-bit PCM at the reply's rate, queued back to back.
    playCtx = playCtx || new AudioContext();
    const pcm = new Int16Array(bytes);
    const buf = playCtx.createBuffer(1, pcm.length, replyRate);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = playCtx.createBufferSource();
    src.buffer = buf;
    src.connect(playCtx.destination);
    playAt = Math.max(playAt, playCtx.currentTime);
    src.start(playAt);
    playAt += buf.duration;
  }

  function onMessage(ev) {
    if (typeof ev.data !== 'string') {
      if (state.firstAudioMs === null && endAt !== undefined) {
        state.firstAudioMs = Math.round(performance.now() - endAt);
        $('first-audio').textContent = `${state.firstAudioMs} ms after you stopped`;
      }
      state.replyBytes += ev.data.byteLength;
      play(ev.data);
      return;
    }
    const msg = JSON.parse(ev.data);
    state.messages.push(msg.type);
    switch (msg.type) {
      case 'ready':
        setStatus('listening');
        break;
      case 'interim':
        state.interims++;
        $('interim').textContent = msg.transcript;
        break;
      case 'final':
        state.finals.push(msg.transcript);
        $('finals').textContent = state.finals.join(' ');
        $('interim').textContent = '';
        break;
      case 'grade':
        state.score = msg.evaluation.score;
        $('score').textContent = `${msg.evaluation.score} (${msg.evaluation.passFail ? 'pass' : 'try again'})`;
        break;
      case 'reply':
        replyRate = msg.sampleRateHertz || 24000;
        state.replyText = msg.text;
        $('reply').textContent = msg.text;
        break;
      case 'done':
        state.done = true;
        state.costUsd = msg.costUsd;
        $('cost').textContent = `$${msg.costUsd.toFixed(6)}`;
        setStatus('done');
        break;
      case 'error':
        state.error = msg.code;
        setStatus(`error: ${msg.code}: ${msg.message}`);
        break;
    }
  }

  async function start() {
    $('start').disabled = true;
    setStatus('opening the microphone');
    micStream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    audioCtx = new AudioContext({ sampleRate: SAMPLE_RATE });
    await audioCtx.audioWorklet.addModule('/live/pcm-worklet.js');
    const node = new AudioWorkletNode(audioCtx, 'pcm-capture', { processorOptions: { frameSamples: SAMPLE_RATE / 10 } });
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/turns/live`);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = onMessage;
    socket.onclose = (ev) => {
      state.closeCode = ev.code;
      stopMic();
      if (!state.done && !state.error) setStatus(`closed (${ev.code})`);
    };
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    socket.send(JSON.stringify({ type: 'start', prompt: $('prompt').value, expectedAnswer: $('expected').value, encoding: 'LINEAR16', sampleRateHertz: SAMPLE_RATE }));
    node.port.onmessage = (e) => {
      if (socket.readyState === WebSocket.OPEN && endAt === undefined) socket.send(e.data);
    };
    audioCtx.createMediaStreamSource(micStream).connect(node);
    $('stop').disabled = false;
  }

  function stopMic() {
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    if (audioCtx && audioCtx.state !== 'closed') audioCtx.close();
    micStream = undefined;
  }

  function stop() {
    $('stop').disabled = true;
    endAt = performance.now();
    stopMic();
    socket.send(JSON.stringify({ type: 'end' }));
    setStatus('grading');
  }

  $('start').onclick = () => start().catch((e) => setStatus(`error: ${e.message}`));
  $('stop').onclick = stop;
})();
