// The Node.js reference: the seed's stack (socket.io 4 + @socket.io/redis-adapter, each message
// stored in DynamoDB before it is acked), speaking as much of Parley's socket contract as the
// load generator uses. Run: node server.js --port N --redis redis://... --dynamodb http://...
// --table <prefix>messages
//
// Bench-only simplifications (stated in bench/README.md):
// - A session is the Redis key `nodesess:<cookie parley_session>` holding the username, read
//   once per connection as connect-redis does; the coordinator seeds them (no login route).
// - `join` checks nothing but the room name and acks {ok: true, messages: []}: no history, no
//   presence (Parley's join reads its history and presence; joins are outside the timed phases).
// - `message`: the text is trimmed and bounded, the socket must have joined the room, the item is
//   written with PutItem (attribute_not_exists(id)), then acked {ok, message} and broadcast to
//   the room, sender included. Ids rise per room: they are given on arrival and broadcasts are
//   released in id order (a put finishing early waits for the earlier ones).
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port'));
const redisUrl = arg('redis');
const table = arg('table', 'bench-messages');
const dynamo = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: arg('dynamodb'),
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'parley-bench',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'parley-bench',
  },
});

const MAX_TEXT = 2000;
let lastMs = 0;
let seq = 0;

function nextId() {
  // Time-ordered, fixed width, rising within this process (a ULID stand-in).
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    seq = 0;
  } else seq += 1;
  return `${String(lastMs).padStart(15, '0')}${String(seq).padStart(11, '0')}`;
}

function cookieValue(header, name) {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

// Per room, broadcasts waiting for the puts of earlier ids.
const ordering = new Map();

function release(io, room) {
  const queue = ordering.get(room);
  while (queue.length && queue[0].done) {
    const entry = queue.shift();
    if (entry.ok) io.to(`room:${room}`).emit('message', entry.message);
  }
  if (!queue.length) ordering.delete(room);
}

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  const store = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect(), store.connect()]);

  const httpServer = http.createServer((req, res) => {
    res.writeHead(404).end();
  });
  const io = new Server(httpServer, {
    adapter: createAdapter(pub, sub),
    maxHttpBufferSize: 64 * 1024,
  });

  io.use(async (socket, next) => {
    const key = cookieValue(socket.handshake.headers.cookie, 'parley_session');
    const username = key ? await store.get(`nodesess:${key}`) : null;
    if (!username) return next(new Error('unauthorized'));
    socket.data.username = username;
    next();
  });

  io.on('connection', (socket) => {
    socket.on('join', (data, ack) => {
      if (typeof ack !== 'function') return;
      const room = data && typeof data.room === 'string' ? data.room : '';
      if (!room || room.length > 64) return ack({ ok: false, error: 'invalid room', code: 'invalid' });
      socket.join(`room:${room}`);
      ack({ ok: true, messages: [] });
    });

    socket.on('message', (data, ack) => {
      if (typeof ack !== 'function') return;
      const room = data && typeof data.room === 'string' ? data.room : '';
      const text = data && typeof data.text === 'string' ? data.text.trim() : '';
      if (!socket.rooms.has(`room:${room}`)) {
        return ack({ ok: false, error: 'join the room first', code: 'forbidden' });
      }
      if (!text || text.length > MAX_TEXT) {
        return ack({ ok: false, error: 'invalid text', code: 'invalid' });
      }
      const message = {
        id: nextId(),
        room,
        username: socket.data.username,
        text,
        createdAt: new Date().toISOString(),
        clientId: typeof data.clientId === 'string' ? data.clientId : null,
      };
      const entry = { message, done: false, ok: false };
      if (!ordering.has(room)) ordering.set(room, []);
      ordering.get(room).push(entry);
      const item = {
        room: { S: room },
        id: { S: message.id },
        username: { S: message.username },
        text: { S: text },
        createdAt: { S: message.createdAt },
      };
      if (message.clientId) item.clientId = { S: message.clientId };
      dynamo
        .send(
          new PutItemCommand({
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        )
        .then(
          () => {
            entry.ok = true;
            ack({ ok: true, message });
          },
          (err) => {
            ack({ ok: false, error: String(err.name || err), code: 'unavailable' });
          },
        )
        .finally(() => {
          entry.done = true;
          release(io, room);
        });
    });
  });

  httpServer.listen(port, '127.0.0.1', () => {
    console.log(`node reference listening on ${port}`);
  });
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit(), store.quit()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
