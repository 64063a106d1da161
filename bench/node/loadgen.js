// The fan-out load generator on the official socket.io-client 4: one WebSocket per user
// (`transports: ['websocket']`), driven by bench/node_worker.py over stdin/stdout (one JSON
// object a line), the same protocol as bench/loadgen.py's Python workers:
//
//   stdin  line 1: the spec {url, clients: [{index, cookie, room, address}], senders:
//                  {"<global sender>": <local client>}, totalSenders, connectConcurrency}
//   stdout        {"kind": "ready", report, members}
//   stdin         {"cmd": "phase", tag, phase, rate, duration, startNs, textSize, quietS,
//                  drainMaxS, ackTimeoutS}  ->  stdout {"kind": "result", ...}
//   stdin         {"cmd": "close"}  ->  stdout {"kind": "closed", ...}
//
// Message k of a phase is sent at startNs + k / rate by sender k % totalSenders (open loop),
// with clientId "<tag>p<phase>.<k>" and a text starting with process.hrtime.bigint() (Linux
// CLOCK_MONOTONIC, the clock Python's time.monotonic_ns() reads), so a delivery's latency is
// the receiver's clock minus that. Acks are awaited with socket.timeout(ackTimeoutS).
// The process's own CPU (process.cpuUsage) is reported with every result: its headroom.
'use strict';

const readline = require('node:readline');
const { io } = require('socket.io-client');

const now = () => process.hrtime.bigint();

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function int32Base64(values) {
  const arr = Int32Array.from(values);
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64');
}

function uint32Base64(arr) {
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64');
}

function bump(counter, key) {
  counter[key] = (counter[key] || 0) + 1;
}

class Receiving {
  constructor(tag, phase, planned, clients) {
    this.prefix = `${tag}p${phase}.`;
    this.planned = planned;
    this.unique = new Uint32Array(planned);
    this.seen = Array.from({ length: clients }, () => new Uint8Array(planned));
    this.lastId = new Array(clients).fill('');
    this.latency = [];
    this.duplicates = 0;
    this.outOfOrder = 0;
    this.stale = 0;
    this.lastDeliveryNs = 0n;
    this.other = {};
  }

  onMessage(local, data, recvNs) {
    const clientId = (data && data.clientId) || '';
    if (!clientId.startsWith(this.prefix)) {
      this.stale += 1;
      return;
    }
    const k = Number(clientId.slice(this.prefix.length));
    this.lastDeliveryNs = recvNs;
    const seen = this.seen[local];
    if (!(k < this.planned) || seen[k]) {
      this.duplicates += 1;
      return;
    }
    seen[k] = 1;
    this.unique[k] += 1;
    if (data.id <= this.lastId[local]) this.outOfOrder += 1;
    else this.lastId[local] = data.id;
    const sendNs = BigInt(data.text.slice(0, data.text.indexOf(' ')));
    this.latency.push(Number((recvNs - sendNs) / 1000n));
  }
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(runners);
}

function connectOne(url, client, originSecret) {
  return new Promise((resolve) => {
    const extraHeaders = {};
    if (client.cookie) extraHeaders.Cookie = client.cookie;
    // Bench-only: each simulated user has its own address (PARLEY_CLIENT_IP_HEADER), as
    // people behind their own connections do; from 127.0.0.1 alone the per-address cap applies.
    if (client.address) {
      extraHeaders['X-Bench-Client'] = client.address;
      // The address header counts only beside the origin secret (the trusted front's).
      extraHeaders['X-Parley-Origin-Verify'] = originSecret;
    }
    const socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 20000,
      extraHeaders,
    });
    const done = (error) => {
      socket.off('connect');
      socket.off('connect_error');
      resolve({ socket, error });
    };
    socket.once('connect', () => done(null));
    socket.once('connect_error', (err) => done(String((err && err.message) || err).slice(0, 120)));
  });
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await iterator.next();
    return done ? null : JSON.parse(value);
  };
  const spec = await nextLine();
  const clients = spec.clients;
  const sockets = new Array(clients.length).fill(null);
  const state = { receiving: null, disconnected: 0 };
  const report = { connected: 0, failed: 0, errors: {}, seconds: 0, latencyUs: [] };

  const t0 = now();
  await pool(clients, spec.connectConcurrency, async (client, i) => {
    const c0 = now();
    const urls = spec.urls && spec.urls.length ? spec.urls : [spec.url];
    const { socket, error } = await connectOne(
      urls[client.index % urls.length],
      client,
      spec.originSecret,
    );
    if (error) {
      report.failed += 1;
      bump(report.errors, error);
      socket.close();
      return;
    }
    report.connected += 1;
    report.latencyUs.push(Number((now() - c0) / 1000n));
    sockets[i] = socket;
    socket.on('message', (data) => {
      if (state.receiving) state.receiving.onMessage(i, data, now());
    });
    socket.onAny((name) => {
      if (name !== 'message' && state.receiving) bump(state.receiving.other, name);
    });
    socket.on('disconnect', () => {
      state.disconnected += 1;
    });
  });
  report.seconds = Number(now() - t0) / 1e9;

  const joinErrors = {};
  const joined = new Array(clients.length).fill(false);
  const j0 = now();
  await pool(clients, spec.connectConcurrency, async (client, i) => {
    const socket = sockets[i];
    if (!socket) return;
    try {
      const ack = await socket.timeout(30000).emitWithAck('join', { room: client.room });
      if (ack && ack.ok) joined[i] = true;
      else bump(joinErrors, JSON.stringify(ack).slice(0, 120));
    } catch (err) {
      bump(joinErrors, String(err.message || err).slice(0, 120));
    }
  });
  out({
    kind: 'ready',
    report: {
      connected: report.connected,
      failed: report.failed,
      errors: report.errors,
      seconds: report.seconds,
      connect_latency_us: int32Base64(report.latencyUs),
      joined: joined.filter(Boolean).length,
      join_seconds: Number(now() - j0) / 1e9,
      join_errors: joinErrors,
    },
    members: clients.filter((_, i) => joined[i]).map((c) => c.index),
  });

  for (;;) {
    const command = await nextLine();
    if (command === null || command.cmd === 'close') break;
    if (command.cmd === 'phase') {
      const planned = Math.floor(command.rate * command.duration);
      state.receiving = new Receiving(command.tag, command.phase, planned, clients.length);
      const result = await runPhase(spec, sockets, command, state);
      out({ kind: 'result', ...result });
    }
  }
  const disconnected = sockets.filter((s) => s && !s.connected).length;
  const c0 = now();
  for (const socket of sockets) if (socket) socket.close();
  out({
    kind: 'closed',
    disconnected_before_close: disconnected,
    close_seconds: Number(now() - c0) / 1e9,
  });
  process.exit(0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runPhase(spec, sockets, phase, state) {
  const receiving = state.receiving;
  const cpu0 = process.cpuUsage();
  const wall0 = now();
  const interval = 1e9 / phase.rate;
  const startNs = BigInt(phase.startNs);
  const pad = 'x'.repeat(Math.max(phase.textSize - 28, 0));
  const result = {
    planned: receiving.planned,
    sent: [],
    acked_ok: [],
    ack_errors: {},
    unacked: 0,
  };
  const ackLatency = [];
  const sendLag = [];
  let pending = 0;
  let firstSendNs = 0n;
  let lastSendNs = 0n;
  const senders = spec.senders;
  for (let k = 0; k < receiving.planned; k += 1) {
    const local = senders[String(k % spec.totalSenders)];
    if (local === undefined) continue;
    const scheduled = startNs + BigInt(Math.floor(k * interval));
    const delay = scheduled - now();
    if (delay > 1000000n) await sleep(Number(delay / 1000000n));
    const socket = sockets[local];
    if (!socket || !socket.connected) {
      bump(result.ack_errors, 'sender disconnected');
      continue;
    }
    const sendNs = now();
    sendLag.push(Number((sendNs > scheduled ? sendNs - scheduled : 0n) / 1000n));
    if (!firstSendNs) firstSendNs = sendNs;
    lastSendNs = sendNs;
    result.sent.push(k);
    pending += 1;
    const payload = {
      room: spec.clients[local].room,
      text: `${sendNs} ${k} ${pad}`,
      clientId: `${phase.tag}p${phase.phase}.${k}`,
    };
    socket.timeout(phase.ackTimeoutS * 1000).emit('message', payload, (err, ack) => {
      pending -= 1;
      if (err) {
        result.unacked += 1;
        return;
      }
      ackLatency.push(Number((now() - sendNs) / 1000n));
      if (ack && ack.ok) result.acked_ok.push(k);
      else bump(result.ack_errors, String((ack && (ack.code || ack.error)) || JSON.stringify(ack)).slice(0, 120));
    });
  }
  // Drain: the acks (each settles by its timeout), then until deliveries are quiet a while.
  const endOfSending = startNs + BigInt(Math.floor(phase.duration * 1e9));
  const base = now() > endOfSending ? now() : endOfSending;
  const deadline = base + BigInt(Math.floor(phase.drainMaxS * 1e9));
  const quietNs = BigInt(Math.floor(phase.quietS * 1e9));
  for (;;) {
    const t = now();
    if (t >= deadline && pending === 0) break;
    if (pending === 0) {
      let last = receiving.lastDeliveryNs;
      if (lastSendNs > last) last = lastSendNs;
      if (endOfSending > last) last = endOfSending;
      if (t - last >= quietNs) break;
    }
    await sleep(50);
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = Number(now() - wall0) / 1e9;
  state.receiving = null;
  return {
    ...result,
    ack_latency_us: int32Base64(ackLatency),
    delivery_latency_us: int32Base64(receiving.latency),
    unique_by_k: uint32Base64(receiving.unique),
    duplicates: receiving.duplicates,
    out_of_order: receiving.outOfOrder,
    stale: receiving.stale,
    send_lag_us: int32Base64(sendLag),
    first_send_ns: String(firstSendNs),
    last_send_ns: String(lastSendNs),
    last_delivery_ns: String(receiving.lastDeliveryNs),
    disconnected: sockets.filter((s) => s && !s.connected).length,
    other_events: receiving.other,
    loadgen_cpu_percent: Math.round((1000 * (cpu.user + cpu.system)) / 1e6 / wallS) / 10,
  };
}

main().catch((err) => {
  out({ kind: 'error', error: String((err && err.stack) || err) });
  process.exit(1);
});
