// Counts SQL statements on the wire: a TCP proxy in front of PostgreSQL that reads the frontend
// protocol (client → server) and records every simple Query ('Q') and every Execute ('E') of
// the extended protocol, with its SQL text (from Parse/Bind). Independent of how the app talks
// to the database (ORM, knex, its own pg pools) and of its logging.
import net from "node:net";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

const cstring = (buf, at) => {
  const end = buf.indexOf(0, at);
  return [buf.toString("utf8", at, end), end + 1];
};

/**
 * Starts the proxy towards `upstreamUrl` (a postgres:// URL). Returns { url } (the same URL
 * through the proxy), `mark()` (a position) and `since(mark)` (statements after it:
 * [{ sql, app }]), and `close()`.
 */
export async function startSqlCounter(upstreamUrl) {
  const upstream = new URL(upstreamUrl);
  const log = [];
  const sockets = new Set();

  const proxy = net.createServer((client) => {
    const db = net.connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client);
    sockets.add(db);
    client.setNoDelay(true);
    db.setNoDelay(true);
    const kill = () => {
      client.destroy();
      db.destroy();
      sockets.delete(client);
      sockets.delete(db);
    };
    client.on("error", kill);
    db.on("error", kill);
    client.on("close", kill);
    db.on("close", kill);
    db.pipe(client);

    let startup = true;
    let app = "";
    let pending = Buffer.alloc(0);
    const statements = new Map(); // prepared statement name → SQL
    const portals = new Map(); // portal name → SQL
    client.on("data", (chunk) => {
      db.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (startup) {
          if (pending.length < 8) break;
          const len = pending.readInt32BE(0);
          if (pending.length < len) break;
          const code = pending.readInt32BE(4);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) {
            startup = false;
            // StartupMessage parameters: key\0value\0 … — keep application_name
            const parts = pending.toString("utf8", 8, len).split("\0");
            const i = parts.indexOf("application_name");
            if (i >= 0) app = parts[i + 1];
          }
          pending = pending.subarray(len);
          continue;
        }
        if (pending.length < 5) break;
        const type = String.fromCharCode(pending[0]);
        const len = pending.readInt32BE(1);
        if (pending.length < 1 + len) break;
        const body = pending.subarray(5, 1 + len);
        if (type === "Q") {
          log.push({ sql: cstring(body, 0)[0], app });
        } else if (type === "P") {
          const [name, at] = cstring(body, 0);
          statements.set(name, cstring(body, at)[0]);
        } else if (type === "B") {
          const [portal, at] = cstring(body, 0);
          portals.set(portal, statements.get(cstring(body, at)[0]) ?? "?");
        } else if (type === "E") {
          log.push({ sql: portals.get(cstring(body, 0)[0]) ?? "?", app });
        }
        pending = pending.subarray(1 + len);
      }
    });
    client.on("end", () => db.end());
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(upstreamUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.address().port);
  return {
    url: proxied.toString(),
    mark: () => log.length,
    since: (mark) => log.slice(mark),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => resolve());
      }),
  };
}
